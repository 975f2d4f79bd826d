"""overlaySubnet and edgeSubnet must hold every address Swarm gives out on their network at the peak of a rollout."""

from __future__ import annotations

import dataclasses

import pytest

from offline_runner.mock_program import run_stack
from swarm_zero_downtime.settings import SettingsError
from swarm_zero_downtime.settings.overlay import AddressNeeds, app_network_needs, edge_network_needs
from tests.support.nginx_configs import stack_settings

PROJECT = "swarm-zero-downtime"


def parsed(overrides: dict[str, object] | None = None, stack: str = "dev") -> dict[str, object]:
    settings = stack_settings(stack, overrides)
    pools, update, rollback, nginx = settings.pools, settings.update, settings.rollback, settings.nginx
    return {
        "realReplicas": pools.real_replicas,
        "backupEnabled": pools.backup_enabled,
        "backupReplicas": pools.backup_replicas,
        "endpointMode": pools.endpoint_mode,
        "nginxReplicas": nginx.replicas,
        "publishMode": nginx.publish_mode,
        "updateParallelism": update.parallelism,
        "updateOrder": update.order,
        "rollbackParallelism": rollback.parallelism,
        "rollbackOrder": rollback.order,
    }


def app_needs(overrides: dict[str, object] | None = None, stack: str = "dev") -> AddressNeeds:
    return app_network_needs(parsed(overrides, stack))


def edge_needs(overrides: dict[str, object] | None = None, stack: str = "dev") -> AddressNeeds:
    return edge_network_needs(parsed(overrides, stack))


def test_the_dev_stack_counts_each_task_address_and_what_docker_keeps():
    # App network: 2 real + 1 started first, the same for the backup pool; 2 L7
    # tasks + 1 started first; the node's load balancer; network, broadcast, gateway.
    assert dataclasses.astuple(app_needs()) == (3, 6, 3, 0, 1)
    assert app_needs().total == 13
    # Edge network: the same L7 tasks, the edge's virtual IP, the node's edge task and load balancer.
    assert dataclasses.astuple(edge_needs()) == (3, 0, 3, 1, 2)
    assert edge_needs().total == 9


def test_prod_counts_the_pools_virtual_ips_the_wider_steps_and_the_edge_starting_first():
    # 4 real + 2 per step, 2 backup + 2 (the same parallelism, at most its
    # replicas), 3 L7 + 1, VIPs of both pools; on the edge network the edge's
    # extra task (ingress) and its VIP.
    assert dataclasses.astuple(app_needs(stack="prod")) == (3, 10, 4, 2, 1)
    assert dataclasses.astuple(edge_needs(stack="prod")) == (3, 0, 5, 1, 2)


def test_stop_first_rollouts_start_no_extra_task():
    assert app_needs({"updateOrder": "stop-first", "rollbackOrder": "stop-first"}).app_tasks == 4
    assert app_needs({"updateOrder": "stop-first"}).app_tasks == 6  # a rollback still starts first


def test_subnets_that_hold_the_stack_pass():
    run_stack("dev", overrides={"overlaySubnet": "192.168.100.0/28", "edgeSubnet": "192.168.101.0/28"})


def test_a_subnet_too_small_names_the_key_the_count_and_the_capacity():
    overrides = {"overlaySubnet": "192.168.100.0/28", "realReplicas": 6, "nginxNextUpstreamTries": 7}
    with pytest.raises(SettingsError) as error:
        run_stack("dev", overrides=overrides)
    (problem,) = error.value.problems
    assert problem == (
        f"{PROJECT}:overlaySubnet: 192.168.100.0/28 has 16 addresses; the app network needs 17 on a one-node swarm"
        " (3 kept by Docker, 10 for app tasks and 3 for nginx tasks at the peak of a start-first rollout,"
        " 0 virtual IP(s), 1 per node) and 1 more per further node; must be a /27 or larger"
    )


def test_an_edge_subnet_too_small_counts_the_l7_tasks_and_the_edge():
    with pytest.raises(SettingsError) as error:
        run_stack("dev", overrides={"edgeSubnet": "192.168.101.0/28", "nginxReplicas": 10})
    (problem,) = error.value.problems
    assert problem == (
        f"{PROJECT}:edgeSubnet: 192.168.101.0/28 has 16 addresses; the edge network needs 17 on a one-node swarm"
        " (3 kept by Docker, 11 for nginx tasks at the peak of a start-first rollout, 1 virtual IP(s), 2 per node)"
        " and 2 more per further node; must be a /27 or larger"
    )


def test_overlapping_subnets_are_refused_naming_both():
    with pytest.raises(SettingsError) as error:
        run_stack("dev", overrides={"overlaySubnet": "10.240.0.0/16", "edgeSubnet": "10.240.8.0/24"})
    (problem,) = error.value.problems
    assert problem == (
        f"{PROJECT}:edgeSubnet: 10.240.8.0/24 overlaps overlaySubnet 10.240.0.0/16:"
        " the two networks need subnets of their own"
    )


def test_the_largest_stack_needs_a_slash_23():
    # Every count at its maximum (with dnsrr, nginxNextUpstreamTries cannot exceed 100 real peers).
    biggest: dict[str, object] = {
        "realReplicas": 100,
        "backupReplicas": 100,
        "nginxReplicas": 100,
        "updateParallelism": 100,
        "endpointMode": "vip",
    }
    assert app_needs({**biggest, "overlaySubnet": "10.240.0.0/23"}).total == 507
    with pytest.raises(
        SettingsError, match=r"10\.240\.0\.0/24 has 256 addresses; the app network needs 507 .* /23 or larger"
    ):
        run_stack("dev", overrides=biggest)
