"""What every docker.Service of the program ignores: the placement platforms Docker records at create."""

from __future__ import annotations

import pulumi
import pytest

from offline_runner.mock_program import DeclaredProgram, run_stack
from offline_runner.resource_types import SERVICE
from swarm_zero_downtime.swarm.service_spec import RECORDED_AT_CREATE, service_options

PLATFORMS = ("taskSpec.placement.platforms",)
SERVICES = {"webapp-real", "webapp-backup", "webapp-nginx", "webapp-edge"}


@pytest.fixture(scope="module")
def zoned() -> DeclaredProgram:
    return run_stack("dev", overrides={"spreadOver": "zone"})


def test_the_recorded_paths_are_the_placement_platforms_only():
    assert tuple(RECORDED_AT_CREATE) == PLATFORMS


def test_every_service_of_the_dev_and_prod_stacks_ignores_the_platforms(stack_program):
    services = stack_program.of_type(SERVICE)
    assert {r.name for r in services} == SERVICES
    # As the engine receives them (RegisterResourceRequest.ignoreChanges): Pulumi property paths.
    assert {r.name: r.ignore_changes for r in services} == dict.fromkeys(SERVICES, PLATFORMS)


def test_with_a_placement_declared_every_service_still_ignores_the_platforms(zoned):
    services = zoned.of_type(SERVICE)
    # The pools and the L7 tier declare the placement that makes the platforms a diff; the edge none.
    declared = {r.name for r in services if "placement" in r.inputs["taskSpec"]}
    assert declared == {"webapp-real", "webapp-backup", "webapp-nginx"}
    assert {r.name: r.ignore_changes for r in services} == dict.fromkeys(SERVICES, PLATFORMS)


def test_no_other_resource_ignores_anything(stack_program, zoned):
    # The rollout gates (dynamic), the network and the configs diff on everything they declare.
    for program in (stack_program, zoned):
        others = [r for r in program.resources if r.type != SERVICE]
        assert others and all(r.ignore_changes == () for r in others)


def test_the_edge_keeps_its_delete_before_replace_with_the_ignore(stack_program):
    edge = stack_program.get(SERVICE, "webapp-edge")
    assert edge.delete_before_replace and edge.ignore_changes == PLATFORMS
    pools = [r for r in stack_program.of_type(SERVICE) if r.name != "webapp-edge"]
    assert not any(r.delete_before_replace for r in pools)


def test_service_options_merges_into_the_given_options():
    parent_opts = pulumi.ResourceOptions(delete_before_replace=True, ignore_changes=["labels"])
    merged = service_options(parent_opts)
    assert merged.delete_before_replace is True
    assert merged.ignore_changes == ["labels", *PLATFORMS]
    assert service_options(pulumi.ResourceOptions()).ignore_changes == list(PLATFORMS)
    assert tuple(RECORDED_AT_CREATE) == PLATFORMS  # merging made new lists
