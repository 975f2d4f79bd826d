"""The README's config table stays in step with Pulumi.yaml."""

from __future__ import annotations

import re

import yaml

from standins.stack_config import REPO_ROOT


def readme_table() -> dict[str, str]:
    rows = re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", (REPO_ROOT / "README.md").read_text(), re.MULTILINE)
    return dict(rows)


def declared_defaults() -> dict[str, str]:
    config = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["config"]
    return {
        key: str(spec["default"]).lower() if isinstance(spec["default"], bool) else str(spec["default"])
        for key, spec in config.items()
    }


def test_every_key_is_documented_with_its_default():
    assert readme_table() == declared_defaults()
