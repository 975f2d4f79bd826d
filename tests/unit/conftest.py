"""Fixtures that run the real program for a stack under Pulumi's mock runtime."""

from __future__ import annotations

import pytest

from tools.mock_program import DeclaredProgram, DeclaredResource, run_stack

SERVICE = "docker:index/service:Service"
SERVICE_CONFIG = "docker:index/serviceConfig:ServiceConfig"
NETWORK = "docker:index/network:Network"
COMPONENT_PREFIX = "swarm-zero-downtime:index:"


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
