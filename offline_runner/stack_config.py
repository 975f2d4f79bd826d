"""Stack config as the Pulumi CLI hands it to the program.

The CLI merges the defaults declared in Pulumi.yaml with Pulumi.<stack>.yaml
and passes every value as a string. Tools that run the program without the CLI
(mock-runtime validation, the test applier) use this to see the same config.

Values are read as the CLI reads YAML (settings/project_file.py). Every problem of a
file is reported at once, one line each naming the file and the key; nothing
here raises anything but StackConfigError.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from swarm_zero_downtime.settings.parsers import shown
from swarm_zero_downtime.settings.project_file import (
    ENCRYPTED_PROBLEM,
    PROJECT_ROOT,
    STR_TAG,
    StackConfigError,
    compose,
    declared_keys,
    encrypted,
    field_node,
    mapping,
    plain,
    project,
    project_name,
    scalar,
)

__all__ = [
    "REPO_ROOT",
    "StackConfig",
    "StackConfigError",
    "available_stacks",
    "declared_keys",
    "load_stack_config",
    "project_name",
    "project_settings",
    "read_stack_config",
    "refresh_always",
    "runtime_options",
]

REPO_ROOT = PROJECT_ROOT


def available_stacks(root: Path = REPO_ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _override(value: object) -> str:
    # Overrides are Python values, as `pulumi config set` would write them; a map or
    # a list (`--path`) reaches the program as JSON.
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


@dataclass(frozen=True)
class StackConfig:
    values: dict[str, str]
    """Fully qualified keys ("project:key") to string values, defaults included."""
    problems: list[str]
    """Keys that could not be read (left at their default in ``values``), one line each."""
    secrets: list[str] = field(default_factory=list)
    """Fully qualified keys the file holds encrypted (left at their default in ``values``):
    set, and secret, but only the Pulumi CLI can decrypt them."""


def load_stack_config(stack: str, root: Path = REPO_ROOT, overrides: dict[str, object] | None = None) -> dict[str, str]:
    """The stack's config values; StackConfigError with every problem when a key cannot be read, encrypted ones too."""
    config = read_stack_config(stack, root, overrides)
    unreadable = [f"Pulumi.{stack}.yaml: {key}: {ENCRYPTED_PROBLEM}" for key in config.secrets]
    if config.problems or unreadable:
        raise StackConfigError("\n".join(config.problems + unreadable))
    return config.values


def read_stack_config(stack: str, root: Path = REPO_ROOT, overrides: dict[str, object] | None = None) -> StackConfig:
    """The stack's config values, and the keys that could not be read.

    ``overrides`` (short keys, or a provider's such as ``docker:registryAuth``) are
    applied last, like `pulumi config set`.
    Undeclared keys in the project's namespace are problems: a typo such as
    ``imagetag`` would otherwise be silently ignored. A file that cannot be
    read at all raises StackConfigError.
    """
    name, defaults = project(root)
    declared = set(declared_keys(root))
    config = {f"{name}:{key}": value for key, value in defaults.items()}

    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise StackConfigError(
            f"no stack file {stack_file.name}; stacks here: {', '.join(available_stacks(root)) or 'none'}"
        )
    document = compose(stack_file)
    try:
        entries = mapping(field_node(document, "config"), "config")
    except StackConfigError as error:
        raise StackConfigError(f"{stack_file.name}: {error}") from None
    problems = []
    values: list[tuple[str, str | None, str | None]] = []
    for key_node, value_node in entries:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != STR_TAG or not key_node.value:
            key = shown(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "'a list or map'"
            problems.append(
                f"{stack_file.name}: key {key} at line {key_node.start_mark.line + 1} must be a name"
                f" such as {name}:imageTag"
            )
            continue
        # Neither a value nor a problem: encrypted.
        values.append((key_node.value, None, None) if encrypted(value_node) else (key_node.value, *scalar(value_node)))
    values += [(k if ":" in k else f"{name}:{k}", _override(v), None) for k, v in (overrides or {}).items()]
    secrets: dict[str, None] = {}  # ordered; an override given later replaces an encrypted value
    for key, value, problem in values:
        full_key = key if ":" in key else f"{name}:{key}"
        namespace, short = full_key.split(":", 1)
        if namespace == name and short not in declared:
            problems.append(f"{stack_file.name}: {full_key}: not a key of this project (see Pulumi.yaml)")
        elif problem is not None:
            problems.append(f"{stack_file.name}: {full_key}: {problem}")
        elif value is None:
            secrets[full_key] = None
        else:
            config[full_key] = value
            secrets.pop(full_key, None)
    return StackConfig(config, problems, list(secrets))


def project_settings(root: Path = REPO_ROOT) -> dict[str, Any]:
    """Pulumi.yaml's ``runtime`` and ``options`` as written (scalars as strings), for what the CLI reads there."""
    node = compose(root / "Pulumi.yaml")
    runtime = field_node(node, "runtime")
    options = field_node(node, "options")
    return {
        "runtime": plain(runtime) if runtime is not None else None,
        "options": plain(options) if options is not None else None,
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
