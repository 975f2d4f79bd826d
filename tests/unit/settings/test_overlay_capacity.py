"""overlaySubnet must hold every address Swarm gives out on the overlay at the peak of a rollout."""

from __future__ import annotations

import dataclasses

import pytest

from offline_runner.mock_program import run_stack
from settings import SettingsError
from settings.overlay import AddressNeeds, address_needs
from tests.support.nginx_configs import stack_settings

KEY = "swarm-zero-downtime:overlaySubnet"


def needs(overrides: dict[str, object] | None = None, stack: str = "dev") -> AddressNeeds:
    settings = stack_settings(stack, overrides)
    pools, update, rollback, nginx = settings.pools, settings.update, settings.rollback, settings.nginx
    return address_needs(
        {
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
    )


def test_the_dev_stack_counts_each_task_address_and_what_docker_keeps():
    # 2 real + 1 started first, the same for the backup pool; 2 L7 tasks + 1
    # started first; the edge's virtual IP; the node's edge task and
    # load-balancer address; network, broadcast and gateway.
    assert dataclasses.astuple(needs()) == (3, 6, 3, 1, 2)
    assert needs().total == 15


def test_prod_counts_the_pools_virtual_ips_the_wider_steps_and_the_edge_starting_first():
    # 4 real + 2 per step, 2 backup + 2 (the same parallelism, at most its
    # replicas), 3 L7 + 1, the edge's extra task (ingress), VIPs of both pools and the edge.
    assert dataclasses.astuple(needs(stack="prod")) == (3, 10, 5, 3, 2)


def test_stop_first_rollouts_start_no_extra_task():
    assert needs({"updateOrder": "stop-first", "rollbackOrder": "stop-first"}).app_tasks == 4
    assert needs({"updateOrder": "stop-first"}).app_tasks == 6  # a rollback still starts first


def test_a_subnet_that_holds_the_stack_passes():
    run_stack("dev", overrides={"overlaySubnet": "192.168.100.0/28"})  # 15 of 16


def test_a_subnet_too_small_names_the_key_the_count_and_the_capacity():
    overrides = {"overlaySubnet": "192.168.100.0/28", "realReplicas": 4, "nginxNextUpstreamTries": 5}
    with pytest.raises(SettingsError) as error:
        run_stack("dev", overrides=overrides)
    (problem,) = error.value.problems
    assert problem == (
        f"{KEY}: 192.168.100.0/28 has 16 addresses; the stack needs 17 on a one-node swarm (3 kept by Docker,"
        " 8 for app tasks and 3 for nginx tasks at the peak of a start-first rollout, 1 virtual IP(s), 2 per node)"
        " and 2 more per further node; must be a /27 or larger"
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
    assert needs({**biggest, "overlaySubnet": "10.240.0.0/23"}).total == 509
    with pytest.raises(
        SettingsError, match=r"10\.240\.0\.0/24 has 256 addresses; the stack needs 509 .* /23 or larger"
    ):
        run_stack("dev", overrides=biggest)
