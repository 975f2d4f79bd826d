"""Each rule fails, with its own message, on an unsafe variant of a service the program declares,
and only that rule: the others still pass on it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pulumi_policy import ResourceValidationPolicy

from offline_runner.mock_program import DeclaredProgram
from offline_runner.resource_types import SERVICE
from rollout_policy.rules import (
    FAILURE_ACTION,
    HEALTH_CHECK,
    L7_TIER_TASKS,
    MONITOR_WINDOW,
    NO_FIXED_NAME,
    POLICIES,
    START_FIRST,
)
from tests.unit.policy.validation import checked_inputs, validation_args, violations

Inputs = dict[str, Any]


@dataclass(frozen=True)
class Variant:
    id: str
    stack: str
    service: str
    change: Callable[[Inputs], None]
    policy: ResourceValidationPolicy
    message: str
    """What the violation must say: the resource, and what to change."""


def container(inputs: Inputs) -> Inputs:
    spec: Inputs = inputs["taskSpec"]["containerSpec"]
    return spec


def set_update(key: str, value: object) -> Callable[[Inputs], None]:
    return lambda inputs: inputs["updateConfig"].__setitem__(key, value)


def publish_through_the_mesh(inputs: Inputs) -> None:
    for port in inputs["endpointSpec"]["ports"]:
        port["publishMode"] = "ingress"


VARIANTS = [
    Variant(
        "no health check",
        "dev",
        "webapp-real",
        lambda inputs: container(inputs).pop("healthcheck"),
        HEALTH_CHECK,
        "service 'webapp-real' declares no health check",
    ),
    Variant(
        "health check NONE",
        "dev",
        "webapp-nginx",
        lambda inputs: container(inputs)["healthcheck"].__setitem__("tests", ["NONE"]),
        HEALTH_CHECK,
        "service 'webapp-nginx' disables its health check (healthcheck.tests is NONE)",
    ),
    Variant(
        "pool stop-first",
        "dev",
        "webapp-real",
        set_update("order", "stop-first"),
        START_FIRST,
        "service 'webapp-real' updates stop-first (updateConfig.order)",
    ),
    Variant(
        # The exception is host mode, not the edge: through the mesh it can start first.
        "edge stop-first without host mode",
        "dev",
        "webapp-edge",
        publish_through_the_mesh,
        START_FIRST,
        "set updateConfig.order to 'start-first'",
    ),
    Variant(
        "monitor under the health window",
        "prod",
        "webapp-real",
        set_update("monitor", "41s"),
        MONITOR_WINDOW,
        # prod: startPeriod 30s + (2s + 2s) x 3
        "service 'webapp-real' has updateConfig.monitor 41s, shorter than its health window 42s",
    ),
    Variant(
        # The shorter window is the backup pool's alone.
        "the backup pool's window on the real pool",
        "dev",
        "webapp-real",
        set_update("monitor", "12s"),
        MONITOR_WINDOW,
        "set updateConfig.monitor to at least 22s",
    ),
    Variant(
        "backup pool monitor under its window",
        "dev",
        "webapp-backup",
        set_update("monitor", "11.5s"),
        MONITOR_WINDOW,
        "service 'webapp-backup' has updateConfig.monitor 11.5s, shorter than its health window 12s"
        " (healthcheck (interval + timeout) x retries)",
    ),
    Variant(
        "failure action pause",
        "prod",
        "webapp-backup",
        set_update("failureAction", "pause"),
        FAILURE_ACTION,
        "service 'webapp-backup' has updateConfig.failureAction 'pause'",
    ),
    Variant(
        "fixed name",
        "dev",
        "webapp-real",
        lambda inputs: inputs.__setitem__("name", "webapp-real"),
        NO_FIXED_NAME,
        "service 'webapp-real' has the fixed name 'webapp-real'",
    ),
    Variant(
        "one L7 task",
        "prod",
        "webapp-nginx",
        lambda inputs: inputs["mode"]["replicated"].__setitem__("replicas", 1),
        L7_TIER_TASKS,
        "service 'webapp-nginx' is the L7 tier (swarm-zero-downtime.tier=l7) and runs 1 task(s)",
    ),
    Variant(
        "global L7 tier",
        "dev",
        "webapp-nginx",
        lambda inputs: inputs.__setitem__("mode", {"global": True}),
        L7_TIER_TASKS,
        "make it replicated with mode.replicated.replicas of at least 2",
    ),
]


def test_every_rule_has_a_failing_variant():
    assert {v.policy.name for v in VARIANTS} == {p.name for p in POLICIES}


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_the_variant_fails_its_rule_alone(variant: Variant, dev: DeclaredProgram, prod: DeclaredProgram):
    service = {"dev": dev, "prod": prod}[variant.stack].get(SERVICE, variant.service)
    inputs = copy.deepcopy(checked_inputs(service))
    variant.change(inputs)
    args = validation_args(service, inputs)
    reported = {policy.name: violations(policy, args) for policy in POLICIES}
    (message,) = reported.pop(variant.policy.name)
    assert variant.message in message
    assert reported == {name: [] for name in reported}
