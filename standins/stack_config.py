"""Stack config as the Pulumi CLI hands it to the program.

The CLI merges the defaults declared in Pulumi.yaml with Pulumi.<stack>.yaml
and passes every value as a string. Tools that run the program without the CLI
(mock-runtime validation, the test applier) use this to see the same config.

The CLI reads YAML 1.2 (go-yaml v3): only true/false are booleans (``yes`` and
``on`` stay strings), ``~`` and ``null`` are null, and a list or map is handed
to the program as JSON text. PyYAML's own loaders follow YAML 1.1, so values
are read here from the parsed nodes, as written, instead. Every problem of a
file is reported at once, one line each naming the file and the key; nothing
here raises anything but StackConfigError.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent

_STR = "tag:yaml.org,2002:str"
# YAML 1.2 core schema (what go-yaml v3 resolves a plain scalar to).
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": "true", "True": "true", "TRUE": "true", "false": "false", "False": "false", "FALSE": "false"}


class StackConfigError(Exception):
    """The stack's files cannot be read as the CLI reads them; one problem per line."""


def _compose(path: Path) -> yaml.Node | None:
    try:
        return yaml.compose(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise StackConfigError(f"{path.name}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise StackConfigError(f"{path.name}: not UTF-8 text") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise StackConfigError(f"{path.name}: not valid YAML{where}: {problem}") from None


def _plain(node: yaml.Node) -> Any:
    """A node as JSON-able data: scalars as written, for a structured value's JSON text."""
    if isinstance(node, yaml.MappingNode):
        return {str(_plain(k)): _plain(v) for k, v in node.value}
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item) for item in node.value]
    return node.value


def _scalar(node: yaml.Node) -> tuple[str | None, str | None]:
    """(value as the CLI hands it over, problem): plain scalars resolved as YAML 1.2 does."""
    if isinstance(node, yaml.MappingNode) and [k.value for k, _ in node.value] == ["secure"]:
        return None, "a secret (secure:) that cannot be read without the Pulumi CLI"
    if not isinstance(node, yaml.ScalarNode):
        return json.dumps(_plain(node)), None
    if node.style is not None:  # quoted: a string, whatever it looks like
        return node.value, None
    if _NULL.fullmatch(node.value):
        return None, "has no value (YAML null); give one, or delete the line to use the default in Pulumi.yaml"
    return _BOOL.get(node.value, node.value), None


def _mapping(node: yaml.Node | None, where: str) -> list[tuple[yaml.Node, yaml.Node]]:
    if node is None or (isinstance(node, yaml.ScalarNode) and _NULL.fullmatch(node.value) and node.style is None):
        return []
    if not isinstance(node, yaml.MappingNode):
        raise StackConfigError(f"{where} must be a map of keys to values")
    return list(node.value)


def _field(node: yaml.Node | None, name: str) -> yaml.Node | None:
    for key, value in _mapping(node, "the file"):
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return value
    return None


def _project(root: Path) -> tuple[str, dict[str, str]]:
    """(project name, declared key -> default as the CLI hands it over)."""
    path = root / "Pulumi.yaml"
    node = _compose(path)
    try:
        name_node = _field(node, "name")
        if not isinstance(name_node, yaml.ScalarNode) or not name_node.value:
            raise StackConfigError("has no project name")
        defaults = {}
        for key, spec in _mapping(_field(node, "config"), "config"):
            default = _field(spec, "default")
            defaults[key.value] = _scalar(default)[0] if default is not None else None
    except StackConfigError as error:
        raise StackConfigError(f"{path.name}: {error}") from None
    return name_node.value, {k: v for k, v in defaults.items() if v is not None}


def project_name(root: Path = REPO_ROOT) -> str:
    return _project(root)[0]


def declared_keys(root: Path = REPO_ROOT) -> list[str]:
    node = _field(_compose(root / "Pulumi.yaml"), "config")
    return [key.value for key, _ in _mapping(node, "config")]


def available_stacks(root: Path = REPO_ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _override(value: object) -> str:
    # Overrides are Python values, as `pulumi config set` would write them.
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class StackConfig:
    values: dict[str, str]
    """Fully qualified keys ("project:key") to string values, defaults included."""
    problems: list[str]
    """Keys that could not be read (left at their default in ``values``), one line each."""


def load_stack_config(stack: str, root: Path = REPO_ROOT, overrides: dict[str, object] | None = None) -> dict[str, str]:
    """The stack's config values; StackConfigError with every problem when a key cannot be read."""
    config = read_stack_config(stack, root, overrides)
    if config.problems:
        raise StackConfigError("\n".join(config.problems))
    return config.values


def read_stack_config(stack: str, root: Path = REPO_ROOT, overrides: dict[str, object] | None = None) -> StackConfig:
    """The stack's config values, and the keys that could not be read.

    ``overrides`` (short keys) are applied last, like `pulumi config set`.
    Undeclared keys in the project's namespace are problems: a typo such as
    ``imagetag`` would otherwise be silently ignored. A file that cannot be
    read at all raises StackConfigError.
    """
    name, defaults = _project(root)
    declared = set(declared_keys(root))
    config = {f"{name}:{key}": value for key, value in defaults.items()}

    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise StackConfigError(
            f"no stack file {stack_file.name}; stacks here: {', '.join(available_stacks(root)) or 'none'}"
        )
    document = _compose(stack_file)
    try:
        entries = _mapping(_field(document, "config"), "config")
    except StackConfigError as error:
        raise StackConfigError(f"{stack_file.name}: {error}") from None
    problems = []
    values: list[tuple[str, str | None, str | None]] = []
    for key_node, value_node in entries:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR or not key_node.value:
            shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a list or map"
            problems.append(
                f"{stack_file.name}: key {shown!r} at line {key_node.start_mark.line + 1} must be a name"
                f" such as {name}:imageTag"
            )
            continue
        values.append((key_node.value, *_scalar(value_node)))
    values += [(f"{name}:{k}", _override(v), None) for k, v in (overrides or {}).items()]
    for key, value, problem in values:
        full_key = key if ":" in key else f"{name}:{key}"
        namespace, short = full_key.split(":", 1)
        if namespace == name and short not in declared:
            problems.append(f"{stack_file.name}: {full_key}: not a key of this project (see Pulumi.yaml)")
        elif problem is not None or value is None:
            problems.append(f"{stack_file.name}: {full_key}: {problem}")
        else:
            config[full_key] = value
    return StackConfig(config, problems)


def project_settings(root: Path = REPO_ROOT) -> dict[str, Any]:
    """Pulumi.yaml's ``runtime`` and ``options`` as written (scalars as strings), for what the CLI reads there."""
    node = _compose(root / "Pulumi.yaml")
    runtime = _field(node, "runtime")
    options = _field(node, "options")
    return {
        "runtime": _plain(runtime) if runtime is not None else None,
        "options": _plain(options) if options is not None else None,
    }


def refresh_always(root: Path = REPO_ROOT) -> bool:
    """``options: refresh: always`` in Pulumi.yaml (pulumi/pulumi sdk/go/common/workspace/project.json
    ``options.refresh``, const "always"; pkg/cmd/pulumi/operations/io.go ``getRefreshOption``)."""
    options = project_settings(root)["options"]
    return isinstance(options, dict) and options.get("refresh") == "always"


def runtime_options(root: Path = REPO_ROOT) -> dict[str, str]:
    """Pulumi.yaml ``runtime.options`` (e.g. toolchain: pip, virtualenv: venv); {} when the runtime is a bare name."""
    runtime = project_settings(root)["runtime"]
    if isinstance(runtime, dict) and isinstance(runtime.get("options"), dict):
        return {str(k): str(v) for k, v in runtime["options"].items()}
    return {}
