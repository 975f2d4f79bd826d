"""The e2e stack deployed once per module, and destroyed at the end, also after failures."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest

from engine_standin.swarm_applier import SwarmApplier
from engine_standin.swarm_env import PROVISION, destroy_stack, docker_ready, local_registry, port_in_use, swarm_lock
from tests.conftest import require
from tests.e2e.harness import E2E_OVERRIDES, HTTPS_PORT, MOVED_PORT, PORT, STACK, Deployment


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    ready, what = docker_ready()
    require(ready, what, PROVISION)
    # One e2e run at a time on this machine: they share the stack and the port.
    with swarm_lock():
        api = docker.from_env(timeout=120).api
        applier = SwarmApplier(api, STACK)
        destroy_stack(applier, str(E2E_OVERRIDES["appName"]))  # leftovers of an interrupted run
        for port in (PORT, HTTPS_PORT, MOVED_PORT):
            assert not port_in_use(port), f"127.0.0.1:{port} is taken by something else; the e2e stack needs it"
        d = Deployment(api, applier, local_registry())
        try:
            d.initial = d.apply()
            yield d
        finally:
            destroy_stack(applier, str(E2E_OVERRIDES["appName"]))
