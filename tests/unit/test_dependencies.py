"""Every package the code imports is declared and pinned in the requirements files."""

from __future__ import annotations

import ast
import importlib.metadata
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from offline_runner.stack_config import REPO_ROOT
from tests.support.requirements_files import DEV, NODEPS, RUNTIME, normalise, pins

LOCAL = {
    "__main__",
    "bench",
    "offline_runner",
    "engine_standin",
    "rollout_policy",
    # The product: components/, nginx/, settings/ and swarm/, imported through the package only.
    "swarm_zero_downtime",
    "tests",
    "tools",
}
SKIPPED_DIRS = {"venv", ".cache", ".git", ".hypothesis"}
# Runs inside the test images on Debian's python3, standard library only.
SELF_CONTAINED = REPO_ROOT / "tests" / "fixtures" / "testapp"


def python_files() -> Iterator[Path]:
    """The checkout's Python files, never looking inside the skipped folders: `make test`
    builds root filesystems in .cache (with /proc mounted) while these tests run."""
    for folder, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        yield from (Path(folder) / name for name in files if name.endswith(".py"))


def imported_top_level_names() -> dict[str, set[str]]:
    """Top-level module name -> the files that import it (absolute imports only)."""
    found: dict[str, set[str]] = {}
    for path in python_files():
        relative = path.relative_to(REPO_ROOT)
        if path.is_relative_to(SELF_CONTAINED):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(relative))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(relative))
    return found


def declared() -> dict[str, str]:
    """Normalised distribution name -> its pin, from requirements.txt, requirements-dev.txt and requirements-nodeps.txt."""
    return {**pins(RUNTIME), **pins(DEV), **pins(NODEPS)}


def test_every_third_party_import_is_a_declared_and_pinned_distribution():
    distributions = importlib.metadata.packages_distributions()
    pins = declared()
    missing = {}
    for module, files in sorted(imported_top_level_names().items()):
        if module in LOCAL or module in sys.stdlib_module_names:
            continue
        names = {normalise(d) for d in distributions.get(module, [])}
        if not names & pins.keys():
            missing[module] = sorted(files)[:3]
    assert not missing, f"imported but not declared in requirements*.txt: {missing}"
    assert all(pins.values()), f"unpinned: {[name for name, version in pins.items() if not version]}"


def test_nothing_outside_tests_imports_from_tests():
    # Product, tools, stand-ins and the benchmark must run without the test tree.
    outside = sorted(f for f in imported_top_level_names().get("tests", set()) if not f.startswith("tests/"))
    assert outside == []


PRODUCT = {"__main__.py", "components", "nginx", "settings", "swarm"}
# Who may not import whom: the product stands alone; the user tools and the offline runner never
# reach the engine stand-in or the tests (test-only code).
FORBIDDEN = {
    **dict.fromkeys(PRODUCT, frozenset({"offline_runner", "engine_standin", "tools", "bench", "tests"})),
    "tools": frozenset({"engine_standin", "bench", "tests"}),
    "offline_runner": frozenset({"engine_standin", "tools", "bench", "tests"}),
}


def test_the_product_the_user_tools_and_the_offline_runner_import_no_test_only_code():
    wrong = {
        f"{path} imports {module}"
        for module, files in imported_top_level_names().items()
        for path in files
        if module in FORBIDDEN.get(path.split("/")[0], frozenset())
    }
    assert not wrong, sorted(wrong)
