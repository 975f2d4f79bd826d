"""The package other programs install (swarm_zero_downtime/, docs/package.md): built, installed
in a clean virtualenv, and the documented program run there under Pulumi's mock runtime."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from offline_runner.stack_config import REPO_ROOT
from swarm_zero_downtime.components.base import component_type
from tests.support.consumer import KEYS, NAMESPACE, comparable, namespaced, this_program

DOCS_PAGE = REPO_ROOT / "docs" / "package.md"
# The documented program's own components/ folder, which must not shadow the package's.
OWN_COMPONENT = """
import pulumi

class NightlyBackup(pulumi.ComponentResource):
    def __init__(self, name, network):
        super().__init__("shop:index:NightlyBackup", name, None)
        self.register_outputs({"network": network})
"""
# Run in the clean virtualenv: the documented program under the offline runner's mocks.
DRIVER = """
import json, sys
from pathlib import Path
import swarm_zero_downtime
from offline_runner.mock_program import run_program

program = Path(sys.argv[1])
sys.path.insert(0, str(program.parent))  # as the CLI's Python host runs a program
declared = run_program(json.loads(sys.argv[2]), "dev", program=program)
print(json.dumps({
    "package": swarm_zero_downtime.__file__,
    "resources": [[r.type, r.name, r.inputs] for r in declared.resources],
    "outputs": declared.outputs,
}, default=str))
"""
# The checkout's own things: never copied into the package's build.
NOT_BUILT = {".git", "venv", ".cache", "build", "tests", "docs", "bench", "__pycache__", ".hypothesis"}


def documented_program() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```$", DOCS_PAGE.read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1, f"{DOCS_PAGE.name} should show one Python program"
    return blocks[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the checkout (symlinks kept) with the build backend the venv pins."""
    source = tmp_path_factory.mktemp("source") / "checkout"
    shutil.copytree(REPO_ROOT, source, symlinks=True, ignore=lambda _, names: [n for n in names if n in NOT_BUILT])
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", out, source],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("swarm_zero_downtime-*.whl")
    return built


@pytest.fixture(scope="module")
def clean_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with requirements.lock, as a deploy job installs it (`make venv-deploy`),
    then the wheel; nothing of the checkout is on its path. Its python."""
    venv = tmp_path_factory.mktemp("clean") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check"]
    lock = ["--require-hashes", "--only-binary", ":all:", "-r", str(REPO_ROOT / "requirements.lock")]
    for args in (
        ["install", "--quiet", "--no-deps", *lock],
        ["install", "--quiet", "--no-deps", str(wheel)],
        ["check"],
    ):
        result = subprocess.run([*pip, *args], capture_output=True, text=True)
        assert result.returncode == 0, f"pip {args[0]}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return python


@pytest.fixture(scope="module")
def documented_run(clean_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The documented program, in a folder of its own with its own components/, run in the clean virtualenv."""
    folder = tmp_path_factory.mktemp("shop")
    (folder / "__main__.py").write_text(documented_program())
    (folder / "components").mkdir()
    (folder / "components" / "__init__.py").write_text("")
    (folder / "components" / "backups.py").write_text(OWN_COMPONENT)
    # The offline runner, copied in: it is the tests' harness, not part of the package.
    harness = tmp_path_factory.mktemp("harness")
    shutil.copytree(
        REPO_ROOT / "offline_runner", harness / "offline_runner", ignore=shutil.ignore_patterns("__pycache__")
    )
    (harness / "driver.py").write_text(DRIVER)
    result = subprocess.run(
        [
            clean_venv,
            "-E",
            "-s",
            harness / "driver.py",
            folder / "__main__.py",
            json.dumps(namespaced(KEYS, NAMESPACE)),
        ],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run: dict[str, Any] = json.loads(result.stdout)
    return run


def test_the_wheel_carries_the_product_and_what_it_reads_at_run_time(wheel: Path):
    names = subprocess.run(
        [sys.executable, "-m", "zipfile", "-l", wheel], check=True, capture_output=True, text=True
    ).stdout
    for path in (
        "swarm_zero_downtime/components/deployment.py",
        "swarm_zero_downtime/settings/project_file.py",
        "swarm_zero_downtime/swarm/rollout_gate.py",
        "swarm_zero_downtime/nginx/l7_tier.conf.j2",
        "swarm_zero_downtime/nginx/edge.conf.j2",
        "swarm_zero_downtime/Pulumi.yaml",
        "swarm_zero_downtime/py.typed",
    ):
        assert path in names
    # Nothing but the package: the checkout's folders stay out of the user's site-packages.
    assert not re.search(r"^\s*(components|settings|swarm|nginx|tests|tools)/", names, re.MULTILINE)


def test_the_documented_program_runs_from_the_installed_package(documented_run: dict[str, Any], clean_venv: Path):
    assert Path(documented_run["package"]).is_relative_to(clean_venv.parents[1]), documented_run["package"]
    types = [type_ for type_, _, _ in documented_run["resources"]]
    assert types.count(component_type("ZeroDowntimeDeployment")) == 1
    assert "shop:index:NightlyBackup" in types
    assert documented_run["outputs"]["url"] == "http://localhost:80/"


def test_the_documented_program_declares_what_this_program_declares_for_the_same_keys(documented_run: dict[str, Any]):
    ours = [[r.type, r.name, r.inputs] for r in this_program(KEYS).resources]
    theirs = [r for r in documented_run["resources"] if r[0] != "shop:index:NightlyBackup"]
    assert comparable(theirs) == comparable(ours)
    real = next(i for type_, name, i in theirs if (type_, name) == ("docker:index/service:Service", "shop-real"))
    assert real["mode"]["replicated"]["replicas"] == 3
    assert real["taskSpec"]["containerSpec"]["image"].startswith("registry.example.com/acme/shop:v3@sha256:")
