"""Pulumi.yaml as the Pulumi CLI reads it: the project's name, its declared keys and their defaults.

The CLI reads YAML 1.2 (go-yaml v3): only true/false are booleans (``yes`` and
``on`` stay strings), ``~`` and ``null`` are null, and a list or map is handed
to the program as JSON text. PyYAML's own loaders follow YAML 1.1, so values
are read here from the parsed nodes, as written, instead. The defaults are the
stack's config where a stack file is silent, and the top component's defaults
(``project_defaults``).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import yaml

from swarm_zero_downtime.settings.parsers import SHOWN_MAX, shown

PROJECT_ROOT = Path(__file__).resolve().parent.parent

STR_TAG = "tag:yaml.org,2002:str"
# YAML 1.2 core schema (what go-yaml v3 resolves a plain scalar to).
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": "true", "True": "true", "TRUE": "true", "false": "false", "False": "false", "FALSE": "false"}


# Deeper than any stack file needs, and far below where the recursive composer
# (and Python's recursion limit) would fail with a traceback.
MAX_DEPTH = 32


class StackConfigError(Exception):
    """The stack's files cannot be read as the CLI reads them; one problem per line."""


class _Refused(yaml.MarkedYAMLError):
    pass


class _StrictLoader(yaml.SafeLoader):
    """Composes nodes, refusing what the CLI refuses or what would cost without bound.

    Duplicate keys: go-yaml v3 (which the CLI reads with) fails on them, where
    PyYAML keeps the last. Aliases: each one repeats its anchor's whole tree, so
    a few lines can expand to gigabytes; no stack file needs them.
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        mark: yaml.Mark = event.start_mark
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(problem="aliases (*name) are not supported", problem_mark=mark)
        if self._depth >= MAX_DEPTH:
            raise _Refused(problem=f"nested more than {MAX_DEPTH} levels deep", problem_mark=mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: dict[Any, yaml.Node]) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[object, yaml.Node] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            first = seen.setdefault(key.value, key)
            if first is not key:
                raise _Refused(
                    problem=f"mapping key {shown(key.value)} already defined at line {first.start_mark.line + 1}",
                    problem_mark=key.start_mark,
                )
        return node


def compose(path: Path) -> yaml.Node | None:
    """The file's YAML nodes; callers only read them (the same text shares one composition)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise StackConfigError(f"{path.name}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise StackConfigError(f"{path.name}: not UTF-8 text") from None
    try:
        return _composed(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise StackConfigError(f"{path.name}: not valid YAML{where}: {problem[: 2 * SHOWN_MAX]}") from None


# Composing Pulumi.yaml in pure Python was two thirds of a run of the program under the
# mock runtime (the tools and tests read it several times per run).
@functools.lru_cache(maxsize=32)
def _composed(text: str) -> yaml.Node | None:
    return yaml.compose(text, Loader=_StrictLoader)


def plain(node: yaml.Node) -> Any:
    """A node as JSON-able data: scalars as written, for a structured value's JSON text."""
    if isinstance(node, yaml.MappingNode):
        return {str(plain(k)): plain(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [plain(item) for item in node.value]
    return node.value


ENCRYPTED_PROBLEM = "a secret (secure:) that cannot be read without the Pulumi CLI"


def encrypted(node: yaml.Node) -> bool:
    """A value `pulumi config set --secret` wrote: ``secure: v1:...``, readable only with the stack's secrets provider."""
    return isinstance(node, yaml.MappingNode) and [k.value for k, _ in node.value] == ["secure"]


def scalar(node: yaml.Node) -> tuple[str | None, str | None]:
    """(value as the CLI hands it over, problem): plain scalars resolved as YAML 1.2 does."""
    if encrypted(node):
        return None, ENCRYPTED_PROBLEM
    if not isinstance(node, yaml.ScalarNode):
        return json.dumps(plain(node)), None
    if node.style is not None:  # quoted: a string, whatever it looks like
        return node.value, None
    if _NULL.fullmatch(node.value):
        return None, "has no value (YAML null); give one, or delete the line to use the default in Pulumi.yaml"
    return _BOOL.get(node.value, node.value), None


def mapping(node: yaml.Node | None, where: str) -> list[tuple[yaml.Node, yaml.Node]]:
    if node is None or (isinstance(node, yaml.ScalarNode) and _NULL.fullmatch(node.value) and node.style is None):
        return []
    if not isinstance(node, yaml.MappingNode):
        raise StackConfigError(f"{where} must be a map of keys to values")
    return list(node.value)


def field_node(node: yaml.Node | None, name: str) -> yaml.Node | None:
    for key, value in mapping(node, "the file"):
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return value
    return None


def project(root: Path = PROJECT_ROOT) -> tuple[str, dict[str, str]]:
    """(project name, declared key -> default as the CLI hands it over)."""
    path = root / "Pulumi.yaml"
    node = compose(path)
    try:
        name_node = field_node(node, "name")
        if not isinstance(name_node, yaml.ScalarNode) or not name_node.value:
            raise StackConfigError("has no project name")
        defaults = {}
        for key, spec in mapping(field_node(node, "config"), "config"):
            default = field_node(spec, "default")
            defaults[key.value] = scalar(default)[0] if default is not None else None
    except StackConfigError as error:
        raise StackConfigError(f"{path.name}: {error}") from None
    return name_node.value, {k: v for k, v in defaults.items() if v is not None}


def project_name(root: Path = PROJECT_ROOT) -> str:
    return project(root)[0]


def declared_keys(root: Path = PROJECT_ROOT) -> list[str]:
    node = field_node(compose(root / "Pulumi.yaml"), "config")
    return [key.value for key, _ in mapping(node, "config")]
