"""The real and backup pools' Swarm service specs."""

from __future__ import annotations

import pytest

from offline_runner.mock_program import mock_digest, run_stack
from offline_runner.resource_types import NETWORK, SERVICE
from swarm_zero_downtime.components.base import spec_fingerprint
from swarm_zero_downtime.swarm.naming import SPEC_LABEL
from tests.unit.conftest import run_stack_with_args, service


@pytest.mark.parametrize("role", ["real", "backup"])
def test_task_spec(dev, role):
    spec = service(dev, f"webapp-{role}").inputs["taskSpec"]
    container = spec["containerSpec"]
    # Pinned to the digest the registry gives the tag (getRegistryImage; mock_digest here).
    assert container["image"] == "windowforsun/test-web:latest@" + mock_digest("windowforsun/test-web:latest")
    assert container["hostname"] == f"app-{role}-{{{{.Task.Slot}}}}"
    assert container["stopGracePeriod"] == "10s"
    url = "http://127.0.0.1:8080/healthcheck"
    assert container["healthcheck"] == {
        "tests": ["CMD-SHELL", f"curl -fsS -o /dev/null {url} || wget -q -O /dev/null {url}"],
        "interval": "2s",
        "timeout": "2s",
        "retries": 3,
        "startPeriod": "10s",
    }


@pytest.mark.parametrize("role", ["real", "backup"])
def test_a_stack_that_sets_no_process_key_keeps_the_images_own(dev, role):
    container = service(dev, f"webapp-{role}").inputs["taskSpec"]["containerSpec"]
    assert not {"env", "commands", "args", "stopSignal"} & set(container)


def test_environment_command_and_stop_signal_reach_both_pools():
    program = run_stack(
        "dev",
        overrides={
            "appEnv": {"DATABASE_HOST": "db.internal", "WORKERS": 4},
            "appCommand": ["bundle", "exec"],
            "appArgs": ["puma", "-C", "config/puma.rb"],
            "appStopSignal": "SIGQUIT",
        },
    )
    for role in ("real", "backup"):
        container = service(program, f"webapp-{role}").inputs["taskSpec"]["containerSpec"]
        assert container["env"] == {"DATABASE_HOST": "db.internal", "WORKERS": "4"}
        assert container["commands"] == ["bundle", "exec"]
        assert container["args"] == ["puma", "-C", "config/puma.rb"]
        assert container["stopSignal"] == "SIGQUIT"
    # The nginx tiers run their own processes.
    for tier in ("webapp-nginx", "webapp-edge"):
        assert "env" not in service(program, tier).inputs["taskSpec"]["containerSpec"]


@pytest.mark.parametrize("role", ["real", "backup"])
def test_attached_to_the_app_network_only_under_a_stable_alias(dev, role):
    network = dev.get(NETWORK, "webapp-net")
    attachments = service(dev, f"webapp-{role}").inputs["taskSpec"]["networksAdvanceds"]
    assert attachments == [{"id": network.id, "aliases": [f"webapp-{role}"]}]
    assert network.inputs == {
        "driver": "overlay",
        "attachable": True,
        "ipamConfigs": [{"subnet": "10.240.0.0/24", "gateway": "10.240.0.1"}],
    }


# The backup pool's image has just passed the real pool's 25 s monitor window:
# its own only waits out (interval 2s + timeout 2s) x 3 retries.
@pytest.mark.parametrize("role, update_monitor", [("real", "25s"), ("backup", "12s")])
def test_update_and_rollback_defaults(dev, role, update_monitor):
    inputs = service(dev, f"webapp-{role}").inputs
    common = {"parallelism": 1, "order": "start-first", "monitor": "25s", "maxFailureRatio": "0"}
    assert inputs["updateConfig"] == {**common, "monitor": update_monitor, "delay": "0s", "failureAction": "rollback"}
    assert inputs["rollbackConfig"] == {**common, "delay": "0s", "failureAction": "pause"}
    assert inputs["convergeConfig"] == {"delay": "2s", "timeout": "5m"}


def test_dev_replicas_endpoint_mode_and_labels():
    dev, args = run_stack_with_args("dev")
    for role, replicas in (("real", 2), ("backup", 2)):
        inputs = service(dev, f"webapp-{role}").inputs
        assert inputs["mode"] == {"replicated": {"replicas": replicas}}
        assert inputs["endpointSpec"] == {"mode": "dnsrr"}
        # Which pool it is, and the fingerprint of everything declared for it (components/base.py).
        assert inputs["labels"] == [
            {"label": "swarm-zero-downtime.pool", "value": role},
            {"label": SPEC_LABEL, "value": spec_fingerprint(args[f"webapp-{role}"])},
        ]


def test_prod_replicas_endpoint_mode_and_rollout(prod):
    real, backup = service(prod, "webapp-real").inputs, service(prod, "webapp-backup").inputs
    assert real["mode"] == {"replicated": {"replicas": 4}}
    assert backup["mode"] == {"replicated": {"replicas": 2}}
    assert real["endpointSpec"] == {"mode": "vip"}
    assert real["updateConfig"]["parallelism"] == 2
    assert real["updateConfig"]["monitor"] == "45s"
    image = "windowforsun/test-web:v1"
    assert real["taskSpec"]["containerSpec"]["image"] == f"{image}@{mock_digest(image)}"
    assert real["convergeConfig"]["timeout"] == "15m"


def test_backup_pool_can_be_left_out():
    from offline_runner.mock_program import run_stack

    program = run_stack("dev", overrides={"backupEnabled": False})
    names = {r.name for r in program.of_type(SERVICE)}
    assert names == {"webapp-real", "webapp-nginx", "webapp-edge"}
    assert program.outputs["backup_service_name"] is None


def test_without_spread_over_swarm_spreads_tasks_itself(dev):
    for name in ("webapp-real", "webapp-backup", "webapp-nginx", "webapp-edge"):
        assert "placement" not in service(dev, name).inputs["taskSpec"]


def test_spread_over_a_node_label_reaches_the_pools_and_the_l7_tier():
    from offline_runner.mock_program import run_stack

    program = run_stack("dev", overrides={"spreadOver": "zone"})
    for name in ("webapp-real", "webapp-backup", "webapp-nginx"):
        assert service(program, name).inputs["taskSpec"]["placement"] == {"prefs": ["node.labels.zone"]}
    # The edge is global: one task per node already.
    assert "placement" not in service(program, "webapp-edge").inputs["taskSpec"]
