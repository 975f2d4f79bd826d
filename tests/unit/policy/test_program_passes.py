"""Every rule passes on every Service the program declares, for each stack."""

from __future__ import annotations

import pytest

from offline_runner.mock_program import DeclaredProgram
from offline_runner.resource_types import SERVICE
from rollout_policy.rules import POLICIES
from rollout_policy.service import BACKUP_POOL, L7_TIER, POOL_LABEL, TIER_LABEL, label
from tests.unit.policy.validation import validation_args, violations


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_every_service_of_the_program_passes(stack_program: DeclaredProgram, policy):
    services = stack_program.of_type(SERVICE)
    assert {s.name for s in services} == {"webapp-real", "webapp-backup", "webapp-nginx", "webapp-edge"}
    for service in services:
        assert violations(policy, validation_args(service)) == [], service.name


def test_the_program_labels_the_services_the_rules_tell_apart(stack_program: DeclaredProgram):
    # Without these labels the L7 rule would pass for want of an L7 tier, and the
    # backup pool's shorter monitor window would fail.
    labels = {
        service.name: (label(args.props, POOL_LABEL), label(args.props, TIER_LABEL))
        for service in stack_program.of_type(SERVICE)
        for args in [validation_args(service)]
    }
    assert labels == {
        "webapp-real": ("real", None),
        "webapp-backup": (BACKUP_POOL, None),
        "webapp-nginx": (None, L7_TIER),
        "webapp-edge": (None, None),
    }


def test_the_edge_stops_first_exactly_when_it_publishes_in_host_mode(dev: DeclaredProgram, prod: DeclaredProgram):
    # dev publishes in host mode, prod through the routing mesh (Pulumi.<stack>.yaml).
    for program, order, mode in ((dev, "stop-first", "host"), (prod, "start-first", "ingress")):
        edge = program.get(SERVICE, "webapp-edge").inputs
        assert edge["updateConfig"]["order"] == order
        assert {port["publishMode"] for port in edge["endpointSpec"]["ports"]} == {mode}
