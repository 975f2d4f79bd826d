"""requirements.lock: every dependency of requirements.txt, pinned and hash-checked, and nothing else.

The deploy jobs install it alone (`make venv-deploy`: --require-hashes --no-deps),
beside the credentials that change a stack: a package it misses is missing at
deploy time, and one it holds that the program does not need is code run there
for nothing.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from offline_runner.stack_config import REPO_ROOT
from tests.support.requirements_files import (
    DEV,
    LOCK,
    NODEPS,
    RUNTIME,
    lock_python,
    normalise,
    pins,
    requirement_lines,
)

# The policy pack's: what its virtualenv gets (make venv-policy), resolved from what it needs.
POLICY_LOCK = REPO_ROOT / "policy" / "requirements.txt"
POLICY_NEEDS = REPO_ROOT / "policy" / "requirements.in"
EXACT_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!-]+$")
SHA256 = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


def dependencies(name: str, extras: frozenset[str], python: str) -> set[tuple[str, frozenset[str]]]:
    """What the installed distribution ``name`` requires with ``extras``, on Python ``python``."""
    found = set()
    for line in importlib.metadata.requires(name) or []:
        requirement = Requirement(line)
        environment = {"python_version": python, "python_full_version": f"{python}.0"}
        if requirement.marker and not any(
            requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras | {""}
        ):
            continue
        found.add((normalise(requirement.name), frozenset(requirement.extras)))
    return found


def needed_at_deploy_time() -> set[str]:
    """The dependency closure of requirements.txt, read from the packages `make venv`
    installed from the lock, for the Python the lock was resolved for."""
    locked = pins(LOCK)
    python = lock_python()
    installed = {name: importlib.metadata.version(name) for name in locked}
    assert installed == locked, "this virtualenv is not the lock's: run make venv"
    todo = {
        (normalise(Requirement(line).name), frozenset(Requirement(line).extras)) for line in requirement_lines(RUNTIME)
    }
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        seen.add((name, extras))
        assert name in locked, f"{name} is needed but not locked: make lock"
        todo |= dependencies(name, extras, python) - seen
    return {name for name, _ in seen}


def make_dry_run(target: str, venv: Path, variable: str = "VENV") -> list[str]:
    """The commands `make TARGET` would run for a virtualenv at ``venv`` (none exists there),
    which the Makefile's ``variable`` names."""
    # Not the flags and jobserver of a `make test-unit` these tests may run under.
    env = {key: value for key, value in os.environ.items() if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(
        ["make", "--dry-run", target, f"{variable}={venv}"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO_ROOT,
        env=env,
        check=True,
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize("lock", [LOCK, POLICY_LOCK], ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_lock_entry_is_one_exact_version_with_sha256_hashes(lock: Path):
    names = []
    for line in requirement_lines(lock):
        spec, *options = line.split()
        assert EXACT_PIN.match(spec), f"not name==version: {spec}"
        assert options, f"{spec} has no hash"
        assert all(SHA256.match(option) for option in options), f"{spec}: {options}"
        names.append(normalise(spec.partition("==")[0]))
    assert names
    assert len(names) == len(set(names)), "a package locked twice"


def test_every_pin_of_requirements_txt_is_in_the_lock_at_its_version():
    locked = pins(LOCK)
    runtime = pins(RUNTIME)
    assert runtime and all(runtime.values()), "requirements.txt pins every package"
    assert {name: locked.get(name) for name in runtime} == runtime


def test_the_lock_holds_what_requirements_txt_needs_and_nothing_else():
    assert sorted(pins(LOCK).keys() - needed_at_deploy_time()) == [], "locked but not needed: make lock"


def test_no_test_or_lint_tool_is_in_the_lock():
    # requirements-dev.txt may pin a package the program needs too (the tests import
    # it), at the lock's version; a tool the program does not need stays out.
    locked = pins(LOCK)
    both = pins(DEV).keys() & locked.keys()
    assert sorted(both - needed_at_deploy_time()) == []
    assert {name: pins(DEV)[name] for name in both} == {name: locked[name] for name in both}
    assert {"pytest", "ruff", "mypy", "hypothesis", "zizmor", "gixy-ng", "pip-tools"} <= pins(DEV).keys()


def assert_installs_one_lock_with_hashes_required(installs: list[str], venv: Path, lock: str) -> None:
    (install,) = installs
    words = install.split()
    assert words[0] == f"{venv}/bin/python"
    for flag in ("--require-hashes", "--no-deps", "--only-binary"):
        assert flag in words, install
    assert words[words.index("-r") + 1] == lock
    assert words.count("-r") == 1, install


def test_make_venv_deploy_installs_the_lock_alone_with_hashes_required(tmp_path: Path):
    venv = tmp_path / "venv"
    installs = [line for line in make_dry_run("venv-deploy", venv) if " -m pip install " in line]
    assert_installs_one_lock_with_hashes_required(installs, venv, "requirements.lock")


def test_make_venv_adds_the_tools_to_the_lock(tmp_path: Path):
    installs = [line for line in make_dry_run("venv", tmp_path / "venv") if " -m pip install " in line]
    assert len(installs) == 3, installs
    assert "--require-hashes" in installs[0] and "-r requirements.lock" in installs[0]
    assert "-r requirements-dev.txt" in installs[1]
    assert "--no-deps" in installs[2].split() and installs[2].endswith("-r requirements-nodeps.txt")


def test_make_venv_policy_installs_the_policy_lock_alone_with_hashes_required(tmp_path: Path):
    venv = tmp_path / "venv"
    installs = [line for line in make_dry_run("venv-policy", venv, "POLICY_VENV") if " -m pip install " in line]
    assert_installs_one_lock_with_hashes_required(installs, venv, "policy/requirements.txt")


def test_the_policy_lock_holds_the_packs_pins_and_the_programs_sdk():
    locked = pins(POLICY_LOCK)
    needed = pins(POLICY_NEEDS)
    assert {name: locked.get(name) for name in needed} == needed, "make lock"
    # The pack and the program run one pulumi SDK, and one gRPC.
    assert {name: needed[name] for name in ("pulumi", "grpcio")} == {
        name: pins(RUNTIME)[name] for name in ("pulumi", "grpcio")
    }
    # The tests import the SDK the pack runs on.
    assert pins(NODEPS)["pulumi-policy"] == locked["pulumi-policy"]
