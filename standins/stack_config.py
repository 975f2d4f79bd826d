"""Stack config as the Pulumi CLI hands it to the program.

The CLI merges the defaults declared in Pulumi.yaml with Pulumi.<stack>.yaml
and passes every value as a string. Tools that run the program without the CLI
(mock-runtime validation, the test applier) use this to see the same config.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


class StackConfigError(Exception):
    pass


def _as_config_string(key: str, value: object) -> str:
    if isinstance(value, dict) and "secure" in value:
        raise StackConfigError(f"{key}: secret values cannot be read without the Pulumi CLI")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise StackConfigError(f"{key}: structured values are not used by this project")
    return str(value)


def project_name(root: Path = REPO_ROOT) -> str:
    return yaml.safe_load((root / "Pulumi.yaml").read_text())["name"]


def available_stacks(root: Path = REPO_ROOT) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def load_stack_config(stack: str, root: Path = REPO_ROOT, overrides: dict[str, object] | None = None) -> dict[str, str]:
    """Fully qualified keys ("project:key") to string values.

    ``overrides`` (short keys) are applied last, like `pulumi config set`.
    Undeclared keys in the project's namespace are errors: a typo such as
    ``imagetag`` would otherwise be silently ignored.
    """
    project = yaml.safe_load((root / "Pulumi.yaml").read_text())
    name = project["name"]
    declared = project.get("config") or {}
    config = {
        f"{name}:{key}": _as_config_string(key, spec["default"]) for key, spec in declared.items() if "default" in spec
    }

    stack_file = root / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        raise StackConfigError(
            f"no stack file {stack_file.name}; stacks here: {', '.join(available_stacks(root)) or 'none'}"
        )
    stack_values = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    problems = []
    for key, value in list(stack_values.items()) + [(f"{name}:{k}", v) for k, v in (overrides or {}).items()]:
        full_key = key if ":" in key else f"{name}:{key}"
        namespace, short = full_key.split(":", 1)
        if namespace == name and short not in declared:
            problems.append(f"{full_key}: not a key of this project (see Pulumi.yaml)")
            continue
        try:
            config[full_key] = _as_config_string(full_key, value)
        except StackConfigError as error:
            problems.append(str(error))
    if problems:
        raise StackConfigError("\n".join(problems))
    return config
