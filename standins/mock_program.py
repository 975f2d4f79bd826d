"""Run the Pulumi program under Pulumi's mock runtime and capture what it declares.

No engine and no provider run here: every resource the program registers is
recorded with its inputs, parent and dependencies, and given outputs the way
pulumi-docker would (inputs echoed back, an auto-generated physical name).
"""

from __future__ import annotations

import hashlib
import runpy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from standins.pulumi_internals import Registration, run_with_mocks
from standins.stack_config import REPO_ROOT, load_stack_config, project_name

PROGRAM = REPO_ROOT / "__main__.py"


@dataclass(frozen=True)
class DeclaredResource(Registration):
    """A registered resource, with the id the mocks gave it."""

    @property
    def id(self) -> str:
        return mock_id(self.name)


@dataclass
class DeclaredProgram:
    resources: list[DeclaredResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[DeclaredResource]:
        return [r for r in self.resources if r.type == type_]

    def by_urn(self, urn: str) -> DeclaredResource:
        return next(r for r in self.resources if r.urn == urn)

    def get(self, type_: str, name: str) -> DeclaredResource:
        return next(r for r in self.resources if r.type == type_ and r.name == name)


def mock_id(name: str) -> str:
    return f"id-of-{name}"


def auto_name(name: str) -> str:
    # Pulumi appends 7 random hex characters once and keeps them in the state;
    # a hash of the logical name is as stable across runs.
    return f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:7]}"


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        outputs.setdefault("name", auto_name(args.name))
        return mock_id(args.name), outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


def run_program(
    config: dict[str, str], stack: str, program: Path = PROGRAM, secret_keys: Sequence[str] = ()
) -> DeclaredProgram:
    """Run ``program`` with fully qualified ``config``; ``secret_keys`` are the ones the
    stack holds encrypted (the CLI decrypts them for the program). Exceptions propagate."""

    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")

    registered, outputs = run_with_mocks(
        run, _Mocks(), project=project_name(), stack=stack, config=config, secret_keys=secret_keys
    )
    resources = [DeclaredResource(**vars(r)) for r in registered]
    return DeclaredProgram(resources=resources, outputs=outputs)


def run_stack(
    stack: str,
    overrides: dict[str, object] | None = None,
    root: Path = REPO_ROOT,
    secrets: dict[str, str] | None = None,
) -> DeclaredProgram:
    """Run the program for ``root``/Pulumi.<stack>.yaml (plus short-key overrides, and
    ``secrets``: short keys given as `pulumi config set --secret` would store them)."""
    secrets = secrets or {}
    config = load_stack_config(stack, root=root, overrides={**(overrides or {}), **secrets})
    return run_program(config, stack, secret_keys=[f"{project_name(root)}:{key}" for key in secrets])
