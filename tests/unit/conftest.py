"""Fixtures that run the real program for a stack under Pulumi's mock runtime."""

from __future__ import annotations

import pytest

from standins.mock_program import DeclaredProgram, DeclaredResource, run_stack
from standins.resource_types import SERVICE


def service(program: DeclaredProgram, logical_name: str) -> DeclaredResource:
    return program.get(SERVICE, logical_name)


@pytest.fixture(scope="session")
def dev() -> DeclaredProgram:
    return run_stack("dev")


@pytest.fixture(scope="session")
def prod() -> DeclaredProgram:
    return run_stack("prod")


@pytest.fixture(params=["dev", "prod"], scope="session")
def stack_program(request, dev, prod) -> DeclaredProgram:
    return {"dev": dev, "prod": prod}[request.param]
