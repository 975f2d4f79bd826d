"""Fixtures that run the real program for a stack under Pulumi's mock runtime."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from offline_runner.mock_program import DeclaredProgram, DeclaredResource, run_stack
from offline_runner.resource_types import SERVICE
from swarm_zero_downtime.components.app_pool import AppPool
from swarm_zero_downtime.components.edge import Edge
from swarm_zero_downtime.components.l7_tier import L7Tier


def service(program: DeclaredProgram, logical_name: str) -> DeclaredResource:
    return program.get(SERVICE, logical_name)


def run_stack_with_args(stack: str, **run_stack_kwargs: Any) -> tuple[DeclaredProgram, dict[str, Any]]:
    """``run_stack``, and the ``*Args`` each pool, the L7 tier and the edge were built with, by component name."""
    built: dict[str, Any] = {}

    def recording(init: Any) -> Any:
        def record(self: Any, name: str, args: Any, opts: Any = None) -> None:
            built[name] = args
            init(self, name, args, opts)

        return record

    with pytest.MonkeyPatch.context() as patch:
        for component in (AppPool, L7Tier, Edge):
            patch.setattr(component, "__init__", recording(component.__init__))
        program = run_stack(stack, **run_stack_kwargs)
    return program, built


@pytest.fixture(scope="session")
def dev() -> DeclaredProgram:
    return run_stack("dev")


@pytest.fixture(scope="session")
def prod() -> DeclaredProgram:
    return run_stack("prod")


@pytest.fixture(params=["dev", "prod"], scope="session")
def stack_program(request, dev, prod) -> DeclaredProgram:
    return {"dev": dev, "prod": prod}[request.param]


@pytest.fixture
def namespaced_config():
    """Sets config the way the CLI hands a program its stack's keys, and clears it after."""

    def set_config(config: dict[str, str], secret_keys: list[str] | None = None) -> None:
        pulumi.runtime.set_all_config(config, secret_keys or [])

    yield set_config
    pulumi.runtime.set_all_config({}, [])
