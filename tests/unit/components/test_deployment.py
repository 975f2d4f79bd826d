"""What the program declares, and how the pieces hang together."""

from __future__ import annotations

import base64
from collections import Counter

from offline_runner.mock_program import DeclaredProgram, DeclaredResource
from offline_runner.resource_types import NETWORK, SERVICE, SERVICE_CONFIG
from swarm_zero_downtime.components.base import TYPE_PREFIX
from swarm_zero_downtime.swarm.naming import config_owner
from swarm_zero_downtime.swarm.rollout_gate import GATE_TYPE
from tests.unit.conftest import service

EXPECTED_PARENTS = {
    ("swarm-zero-downtime:index:ZeroDowntimeDeployment", "webapp"): "pulumi:pulumi:Stack",
    ("swarm-zero-downtime:index:OverlayNetwork", "webapp-net"): "swarm-zero-downtime:index:ZeroDowntimeDeployment",
    ("swarm-zero-downtime:index:OverlayNetwork", "webapp-edge-net"): "swarm-zero-downtime:index:ZeroDowntimeDeployment",
    ("swarm-zero-downtime:index:AppPool", "webapp-real"): "swarm-zero-downtime:index:ZeroDowntimeDeployment",
    ("swarm-zero-downtime:index:AppPool", "webapp-backup"): "swarm-zero-downtime:index:ZeroDowntimeDeployment",
    ("swarm-zero-downtime:index:LoadBalancer", "webapp-nginx"): "swarm-zero-downtime:index:ZeroDowntimeDeployment",
    ("swarm-zero-downtime:index:Edge", "webapp-edge"): "swarm-zero-downtime:index:ZeroDowntimeDeployment",
    (NETWORK, "webapp-net"): "swarm-zero-downtime:index:OverlayNetwork",
    (NETWORK, "webapp-edge-net"): "swarm-zero-downtime:index:OverlayNetwork",
    (SERVICE, "webapp-real"): "swarm-zero-downtime:index:AppPool",
    (SERVICE, "webapp-backup"): "swarm-zero-downtime:index:AppPool",
    (SERVICE, "webapp-nginx"): "swarm-zero-downtime:index:LoadBalancer",
    (SERVICE, "webapp-edge"): "swarm-zero-downtime:index:Edge",
    (GATE_TYPE, "webapp-real-rollout"): "swarm-zero-downtime:index:AppPool",
    (GATE_TYPE, "webapp-nginx-rollout"): "swarm-zero-downtime:index:LoadBalancer",
    (GATE_TYPE, "webapp-edge-rollout"): "swarm-zero-downtime:index:Edge",
}


def parent_type(urn: str) -> str:
    # urn:pulumi:stack::project::parentType$childType::name
    return urn.split("::")[2].split("$")[-1]


def test_declares_two_networks_four_services_two_configs(stack_program):
    custom = Counter(r.type for r in stack_program.resources if r.custom)
    assert custom == {NETWORK: 2, SERVICE: 4, SERVICE_CONFIG: 2, GATE_TYPE: 3}


def test_only_the_edge_network_is_trusted_and_nothing_can_attach_to_it(stack_program):
    edge_network = stack_program.get(NETWORK, "webapp-edge-net")
    assert edge_network.inputs == {
        "driver": "overlay",
        "attachable": False,
        "ipamConfigs": [{"subnet": "10.241.0.0/24", "gateway": "10.241.0.1"}],
    }
    l7_config = next(c for c in stack_program.of_type(SERVICE_CONFIG) if config_owner(c.name) == "webapp-nginx")
    assert "set_real_ip_from 10.241.0.0/24;" in base64.b64decode(l7_config.inputs["data"]).decode()


def test_declares_seven_components_with_project_type_tokens(stack_program):
    components = [r for r in stack_program.resources if not r.custom]
    assert len(components) == 7
    assert all(r.type.startswith(TYPE_PREFIX) for r in components)


def test_every_resource_has_its_component_as_parent(stack_program):
    for resource in stack_program.resources:
        if resource.type == SERVICE_CONFIG:
            expected = {
                "webapp-nginx": "swarm-zero-downtime:index:LoadBalancer",
                "webapp-edge": "swarm-zero-downtime:index:Edge",
            }[config_owner(resource.name)]
        else:
            expected = EXPECTED_PARENTS[(resource.type, resource.name)]
        assert parent_type(resource.parent) == expected, resource.urn


def test_backup_service_waits_for_the_real_pools_rollout_gate(dev):
    real, backup = service(dev, "webapp-real"), service(dev, "webapp-backup")
    gate = dev.get(GATE_TYPE, "webapp-real-rollout")
    assert {real.urn, gate.urn} <= set(backup.dependencies)
    assert real.urn in gate.dependencies
    assert backup.urn not in real.dependencies


def test_the_gate_watches_the_real_service_for_its_declared_image(dev):
    gate = dev.get(GATE_TYPE, "webapp-real-rollout")
    real = service(dev, "webapp-real")
    assert gate.inputs["service_id"] == real.id
    assert gate.inputs["image"] == real.inputs["taskSpec"]["containerSpec"]["image"]
    assert gate.inputs["replicas"] == 2
    assert gate.inputs["timeout_s"] == 300
    assert gate.inputs.get("docker_host") is None  # DOCKER_HOST then, as for pulumi-docker
    # Pickled by reference to this project's module, so the engine's host imports the same code.
    assert "swarm_zero_downtime.swarm.rollout_gate" in base64.b64decode(gate.inputs["__provider"]).decode("latin-1")


def test_every_service_but_the_backup_pool_is_gated(dev):
    # The backup pool comes last: nothing waits for it (see docs/known-limits.md).
    assert sorted(r.name for r in dev.of_type(GATE_TYPE)) == [
        "webapp-edge-rollout",
        "webapp-nginx-rollout",
        "webapp-real-rollout",
    ]


def test_the_edge_gate_waits_for_one_task_per_node_and_the_edge_has_no_converge_wait(dev):
    gate = dev.get(GATE_TYPE, "webapp-edge-rollout")
    assert gate.inputs.get("replicas") is None
    assert gate.inputs["service_id"] == service(dev, "webapp-edge").id
    # pulumi-docker's converge wait fails a global service ("no replica count").
    assert "convergeConfig" not in service(dev, "webapp-edge").inputs


def configs(program: DeclaredProgram) -> dict[str, DeclaredResource]:
    return {config_owner(c.name): c for c in program.of_type(SERVICE_CONFIG)}


def test_nginx_tier_waits_for_both_pools_and_its_config(dev):
    nginx = service(dev, "webapp-nginx")
    for dependency in (service(dev, "webapp-real"), service(dev, "webapp-backup"), configs(dev)["webapp-nginx"]):
        assert dependency.urn in nginx.dependencies


def test_edge_waits_for_the_nginx_tier_and_its_config(dev):
    edge = service(dev, "webapp-edge")
    for dependency in (service(dev, "webapp-nginx"), configs(dev)["webapp-edge"]):
        assert dependency.urn in edge.dependencies


def test_no_fixed_physical_names(stack_program):
    # A fixed name would turn any replacement into delete-then-create: downtime.
    assert all("name" not in r.inputs for r in stack_program.resources if r.custom)


def test_exports(dev):
    assert dev.outputs["url"] == "http://localhost:80/"
    assert dev.outputs["real_service_name"].startswith("webapp-real-")
    assert dev.outputs["backup_service_name"].startswith("webapp-backup-")
    assert dev.outputs["l7_tier_service_name"].startswith("webapp-nginx-")
    assert dev.outputs["edge_service_name"].startswith("webapp-edge-")
    assert configs(dev)["webapp-nginx"].name == f"webapp-nginx-conf-{dev.outputs['l7_tier_config_sha256'][:12]}"
    assert configs(dev)["webapp-edge"].name == f"webapp-edge-conf-{dev.outputs['edge_config_sha256'][:12]}"


def test_prod_url_uses_public_host(prod):
    assert prod.outputs["url"] == "http://app.example.com:80/"
