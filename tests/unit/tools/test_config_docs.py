"""The config table in docs/configuration.md is generated from Pulumi.yaml and kept in step (CI runs this)."""

from __future__ import annotations

import pytest
import yaml

from offline_runner.stack_config import REPO_ROOT, StackConfigError
from swarm_zero_downtime.settings import RULES
from tools.config_docs import CONFIG_PAGE, config_table, main, with_table


def test_config_page_table_is_what_make_docs_writes():
    assert main(["--check"]) == 0, "docs/configuration.md's config table is stale: run `make docs`"


def test_every_declared_key_has_a_row_with_its_default_and_bounds():
    declared = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["config"]
    rows = config_table().splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == [f"| `{key}`" for key in declared]
    assert "| `backupEnabled` | `true` | true or false |" in config_table()
    assert "| `realReplicas` | `2` | a whole number from 1 to 100 |" in config_table()


def test_every_declared_key_has_exactly_one_rule():
    declared = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())["config"]
    assert sorted(RULES) == sorted(declared)


def test_check_fails_on_a_stale_table(tmp_path, monkeypatch):
    stale = with_table(CONFIG_PAGE.read_text(), "| key | default | allowed | what it does |")
    copy = tmp_path / "configuration.md"
    copy.write_text(stale)
    monkeypatch.setattr("tools.config_docs.CONFIG_PAGE", copy)
    assert main(["--check"]) == 1
    assert main([]) == 0
    assert copy.read_text() == CONFIG_PAGE.read_text()


def test_missing_markers_are_an_error():
    with pytest.raises(ValueError, match="lacks the markers"):
        with_table("# no table here\n", "| x |")


def test_pulumi_yaml_is_read_as_strictly_as_the_stack_files(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text() + "name: another\n")
    with pytest.raises(StackConfigError, match=r"mapping key 'name' already defined at line \d+$"):
        config_table(tmp_path)
