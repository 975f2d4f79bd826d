"""Run the Pulumi program under Pulumi's mock runtime and capture what it declares.

No engine and no provider run here: every resource the program registers is
recorded with its inputs, parent and dependencies, and given outputs the way
pulumi-docker would (inputs echoed back, an auto-generated physical name).
The one invoke the program makes, pulumi-docker's ``getRegistryImage``, is
answered by a ``digest`` function: ``mock_digest`` offline (a stable stand-in
per reference, never a registry's), or the applier's model of the provider
asking a real registry (``engine_standin.swarm_applier.registry``). Any other
invoke is refused.
"""

from __future__ import annotations

import hashlib
import runpy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from offline_runner.pulumi_internals import Registration, run_with_mocks
from offline_runner.stack_config import REPO_ROOT, load_stack_config, project_name

PROGRAM = REPO_ROOT / "__main__.py"
REGISTRY_IMAGE = "docker:index/getRegistryImage:getRegistryImage"

Digest = Callable[[str], str]
"""An image reference's digest in its registry (what ``getRegistryImage`` returns as ``sha256Digest``)."""


class UnmodelledInvoke(Exception):
    """The program called a function the mock runtime does not answer."""


def mock_digest(image: str) -> str:
    """A digest for ``image`` when no registry is asked: the same for the same reference, like a tag that stays put."""
    return "sha256:" + hashlib.sha256(f"mock-digest:{image}".encode()).hexdigest()


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
    config: dict[str, str] = field(default_factory=dict, repr=False)
    """The stack config it ran with: the default provider reads its own keys (``docker:*``) there."""

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


class ProgramMocks(pulumi.runtime.Mocks):
    def __init__(self, digest: Digest) -> None:
        self.digest = digest

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        outputs.setdefault("name", auto_name(args.name))
        return mock_id(args.name), outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        if args.token != REGISTRY_IMAGE:
            raise UnmodelledInvoke(f"{args.token}: the mock runtime answers only {REGISTRY_IMAGE}")
        name = args.args["name"]
        try:
            digest = self.digest(name)
        except Exception as error:  # noqa: BLE001 - any failure is the invoke's, reported as the engine reports it
            # A failed invoke comes back to the program as failures, and the SDK raises them
            # where the program called it (an exception escaping here would bypass the program).
            return {}, [("name", str(error))]
        return {"id": digest, "name": name, "sha256Digest": digest}, []


def run_program(
    config: dict[str, str],
    stack: str,
    program: Path = PROGRAM,
    secret_keys: Sequence[str] = (),
    digest: Digest = mock_digest,
) -> DeclaredProgram:
    """Run ``program`` with fully qualified ``config``; ``secret_keys`` are the ones the
    stack holds encrypted (the CLI decrypts them for the program); ``digest`` answers
    ``getRegistryImage``. Exceptions propagate."""

    def run() -> None:
        runpy.run_path(str(program), run_name="__main__")

    registered, outputs = run_with_mocks(
        run, ProgramMocks(digest), project=project_name(), stack=stack, config=config, secret_keys=secret_keys
    )
    resources = [DeclaredResource(**vars(r)) for r in registered]
    return DeclaredProgram(resources=resources, outputs=outputs, config=dict(config))


def run_stack(
    stack: str,
    overrides: dict[str, object] | None = None,
    root: Path = REPO_ROOT,
    secrets: dict[str, str] | None = None,
) -> DeclaredProgram:
    """Run the program for ``root``/Pulumi.<stack>.yaml (plus short-key overrides, and
    ``secrets``: keys given as `pulumi config set --secret` would store them; short ones are the project's)."""
    secrets = secrets or {}
    config = load_stack_config(stack, root=root, overrides={**(overrides or {}), **secrets})
    keys = [key if ":" in key else f"{project_name(root)}:{key}" for key in secrets]
    return run_program(config, stack, secret_keys=keys)
