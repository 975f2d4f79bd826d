"""The GitHub Actions workflows are valid against GitHub's workflow schema."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from standins.stack_config import REPO_ROOT, available_stacks

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))


def test_workflows_match_the_schema():
    checker = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    assert checker, "check-jsonschema missing: make venv installs it from requirements-dev.txt"
    result = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pull_requests_validate_and_preview_every_stack():
    job = yaml.safe_load((REPO_ROOT / ".github/workflows/preview.yml").read_text())["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == available_stacks()
    steps = job["steps"]
    assert {"run": "make validate STACK=${{ matrix.stack }}"} in steps
    (preview,) = [s for s in steps if s.get("uses", "").startswith("pulumi/actions@")]
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["comment-on-pr"] is True


def test_prod_deploys_only_after_dev_in_a_protected_environment():
    jobs = yaml.safe_load((REPO_ROOT / ".github/workflows/deploy.yml").read_text())["jobs"]
    assert jobs["up-prod"]["needs"] == "up-dev"
    assert jobs["up-prod"]["environment"] == "prod"
