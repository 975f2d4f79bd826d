"""The rollout gate's verdict on Swarm's view of a service, and its wait, without Docker."""

from __future__ import annotations

from typing import Any

import pytest

from swarm_zero_downtime.swarm.naming import SPEC_LABEL
from swarm_zero_downtime.swarm.rollout_gate import (
    RolloutFailed,
    RolloutGateProvider,
    same_image,
    verdict,
    wait_for_rollout,
)

V1, V2, BAD = "szd-testapp:v1", "szd-testapp:v2", "szd-testapp:bad"
DIGEST = "@sha256:" + "ab" * 32
# Two fingerprints of a declared spec (components/base.py spec_fingerprint): the one before a change, the one after.
OLD_SPEC, NEW_SPEC = "0" * 63 + "1", "f" * 63 + "e"


def service(image: str, state: str | None = None, message: str = "", spec: str | None = None) -> dict[str, Any]:
    """A service's inspect output; ``spec``: the SPEC_LABEL it carries (None: no labels at all)."""
    inspect: dict[str, Any] = {
        "Spec": {"Name": "webapp-real-1a2b3c4", "TaskTemplate": {"ContainerSpec": {"Image": image}}}
    }
    if spec is not None:
        inspect["Spec"]["Labels"] = {"swarm-zero-downtime.pool": "real", SPEC_LABEL: spec}
    if state:
        inspect["UpdateStatus"] = {"State": state, "Message": message}
    return inspect


def task(image: str, state: str = "running", desired: str = "running") -> dict[str, Any]:
    return {"DesiredState": desired, "Status": {"State": state}, "Spec": {"ContainerSpec": {"Image": image}}}


def test_done_once_swarm_completed_and_every_task_runs_the_declared_image():
    assert verdict(service(V2, "completed"), [task(V2), task(V2), task(V1, "shutdown", "shutdown")], V2, 2).done


def test_still_waiting_inside_swarms_update_and_monitor_window():
    # pulumi-docker would already call this done: every slot has a running task.
    result = verdict(service(V2, "updating", "update in progress"), [task(V2), task(V2)], V2, 2)
    assert not result.done and result.failure is None
    assert "updating" in result.waiting_for


def test_a_rolled_back_update_fails_with_swarms_message():
    result = verdict(service(V2, "rollback_completed", "rollback completed"), [task(V2), task(V2)], BAD, 2)
    assert result.failure == (
        "webapp-real-1a2b3c4 runs szd-testapp:v2, not the declared szd-testapp:bad:"
        " Swarm's update state is rollback_completed: rollback completed"
    )


def test_a_rolling_back_update_fails_at_once_its_spec_is_already_the_old_one():
    result = verdict(service(V2, "rollback_started", "update rolled back due to failure"), [task(V2)], BAD, 2)
    assert result.failure and "rollback_started" in result.failure


@pytest.mark.parametrize("state", ["paused", "rollback_paused"])
def test_a_paused_update_fails(state):
    result = verdict(service(V2, state, "update paused due to failure"), [task(V2), task(V2)], V2, 2)
    assert result.failure == f"webapp-real-1a2b3c4: Swarm's update is {state}: update paused due to failure"


def test_back_on_the_image_swarm_rolled_back_to_is_fine():
    # A re-run that declares the image Swarm already rolled back to: nothing to wait for.
    assert verdict(service(V2, "rollback_completed", "rollback completed"), [task(V2), task(V2)], V2, 2).done


def test_a_new_service_waits_for_every_task_running_and_healthy():
    starting = verdict(service(V1), [task(V1), task(V1, "starting")], V1, 2)
    assert not starting.done and starting.waiting_for == "1/2 tasks running and healthy on szd-testapp:v1"
    assert verdict(service(V1), [task(V1), task(V1)], V1, 2).done


def test_a_scale_up_waits_for_the_new_tasks():
    assert not verdict(service(V1, "completed"), [task(V1), task(V1)], V1, 3).done


def test_a_digest_pinned_on_create_is_the_same_image():
    assert same_image(V1 + DIGEST, V1)
    assert same_image(V1 + DIGEST, V1 + DIGEST)
    assert not same_image(V1, V1 + DIGEST)
    assert verdict(service(V1 + DIGEST), [task(V1 + DIGEST)], V1, 1).done


class FakeApi:
    """The two calls the gate makes, answering from a script of (inspect, tasks) pairs."""

    def __init__(
        self, script: list[tuple[dict[str, Any], list[dict[str, Any]]]], nodes: list[dict[str, Any]] | None = None
    ) -> None:
        self.script = script
        self.calls = 0
        self.node_list = nodes or []

    def inspect_service(self, service_id: str) -> dict[str, Any]:
        self.calls += 1
        return self.script[min(self.calls, len(self.script)) - 1][0]

    def tasks(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        return self.script[min(self.calls, len(self.script)) - 1][1]

    def nodes(self) -> list[dict[str, Any]]:
        return self.node_list


def node(state: str = "ready", availability: str = "active") -> dict[str, Any]:
    return {"Status": {"State": state}, "Spec": {"Availability": availability}}


def test_a_global_service_waits_for_one_task_per_ready_active_node():
    nodes = [node(), node(), node("down"), node(availability="drain")]
    api = FakeApi([(service(V2, "completed"), [task(V2)]), (service(V2, "completed"), [task(V2), task(V2)])], nodes)
    wait_for_rollout(api, "id", V2, None, timeout_s=5, poll_s=0)  # type: ignore[arg-type]
    assert api.calls == 2


def test_the_provider_waits_on_a_global_gate_whose_props_have_no_replicas(monkeypatch):
    # Pulumi drops a None input, so a global gate's props have no "replicas" at all.
    api = FakeApi([(service(V2, "completed", spec=NEW_SPEC), [task(V2)])], [node()])
    monkeypatch.setattr("swarm_zero_downtime.swarm.rollout_gate.docker_api", lambda host: api)
    result = RolloutGateProvider().create({"service_id": "id", "image": V2, "timeout_s": 1, "spec_sha256": NEW_SPEC})
    assert result.id == "rollout-of-id"
    assert api.calls == 1


def test_wait_returns_when_swarm_finishes():
    api = FakeApi([(service(V2, "updating"), [task(V2)]), (service(V2, "completed"), [task(V2), task(V2)])])
    wait_for_rollout(api, "id", V2, 2, timeout_s=5, poll_s=0)  # type: ignore[arg-type]
    assert api.calls == 2


def test_wait_fails_when_swarm_rolls_back():
    api = FakeApi([(service(BAD, "updating"), [task(V2)]), (service(V2, "rollback_completed", "rolled back"), [])])
    with pytest.raises(RolloutFailed, match=r"not the declared szd-testapp:bad: .*rolled back"):
        wait_for_rollout(api, "id", BAD, 2, timeout_s=5, poll_s=0)  # type: ignore[arg-type]


def test_wait_gives_up_after_the_timeout_saying_what_it_waited_for():
    api = FakeApi([(service(V2, "updating", "update in progress"), [])])
    with pytest.raises(RolloutFailed, match=r"not finished after 0.05s, waiting for Swarm's update \(updating"):
        wait_for_rollout(api, "id", V2, 2, timeout_s=0.05, poll_s=0.01)  # type: ignore[arg-type]


def test_provider_diff_is_any_change_of_what_is_declared():
    provider = RolloutGateProvider()
    olds = {"service_id": "s", "image": V1, "replicas": 2, "spec_sha256": "a"}
    assert provider.diff("id", olds, dict(olds)).changes is False
    assert provider.diff("id", olds, {**olds, "image": V2}).changes is True
    assert provider.diff("id", olds, {**olds, "spec_sha256": "b"}).changes is True


def test_provider_diff_leaves_out_the_pickled_provider():
    # Another Python or dill pickles the same provider differently: that is no new rollout.
    olds = {"service_id": "s1", "image": "a:1", "__provider": "pickled-by-one-python"}
    assert not RolloutGateProvider().diff("id", olds, {**olds, "__provider": "pickled-by-another"}).changes
    assert RolloutGateProvider().diff("id", olds, {**olds, "image": "a:2", "__provider": "other"}).changes


# --- the declared spec's fingerprint (SPEC_LABEL): a rollback of more than the image -------------------


def test_a_rolled_back_spec_on_the_declared_image_fails_with_swarms_message():
    # A change of anything but the image (an nginx setting, a grace period) that Swarm rolled back:
    # the image alone would call it done; the spec label Swarm put back says otherwise.
    rolled_back = service(V2, "rollback_completed", "rollback completed", spec=OLD_SPEC)
    result = verdict(rolled_back, [task(V2), task(V2)], V2, 2, NEW_SPEC)
    assert not result.done
    assert result.failure == (
        f"webapp-real-1a2b3c4 runs spec {OLD_SPEC[:12]}, not the declared {NEW_SPEC[:12]} ({SPEC_LABEL}):"
        " Swarm's update state is rollback_completed: rollback completed"
    )


def test_a_rolling_back_spec_fails_at_once():
    result = verdict(
        service(V2, "rollback_started", "update rolled back due to failure", OLD_SPEC), [], V2, 2, NEW_SPEC
    )
    assert result.failure and "rollback_started: update rolled back due to failure" in result.failure


def test_another_spec_without_an_update_status_was_changed_outside_pulumi():
    result = verdict(service(V2, spec=OLD_SPEC), [task(V2), task(V2)], V2, 2, NEW_SPEC)
    assert result.failure == (
        f"webapp-real-1a2b3c4 runs spec {OLD_SPEC[:12]}, not the declared {NEW_SPEC[:12]} ({SPEC_LABEL}):"
        " its spec was changed outside Pulumi"
    )


def test_a_service_without_the_spec_label_is_not_the_declared_spec():
    # Every gated service is declared with its label: one without was changed outside Pulumi.
    result = verdict(service(V2), [task(V2), task(V2)], V2, 2, NEW_SPEC)
    assert result.failure and result.failure.endswith("its spec was changed outside Pulumi")


def test_a_wrong_image_is_still_named_before_the_spec():
    result = verdict(service(V1, "rollback_completed", "rollback completed", OLD_SPEC), [task(V1)], V2, 1, NEW_SPEC)
    assert result.failure == (
        "webapp-real-1a2b3c4 runs szd-testapp:v1, not the declared szd-testapp:v2:"
        " Swarm's update state is rollback_completed: rollback completed"
    )


def test_the_declared_spec_waits_and_finishes_as_before():
    updating = verdict(service(V2, "updating", "update in progress", NEW_SPEC), [task(V2), task(V2)], V2, 2, NEW_SPEC)
    assert not updating.done and updating.failure is None
    assert "updating" in updating.waiting_for
    starting = verdict(service(V2, spec=NEW_SPEC), [task(V2), task(V2, "starting")], V2, 2, NEW_SPEC)
    assert not starting.done and starting.failure is None
    assert starting.waiting_for == "1/2 tasks running and healthy on szd-testapp:v2"
    tasks = [task(V2), task(V2), task(V1, "shutdown", "shutdown")]
    assert verdict(service(V2, "completed", spec=NEW_SPEC), tasks, V2, 2, NEW_SPEC).done
    paused = verdict(service(V2, "paused", "update paused due to failure", NEW_SPEC), tasks, V2, 2, NEW_SPEC)
    assert paused.failure == "webapp-real-1a2b3c4: Swarm's update is paused: update paused due to failure"


def test_back_on_the_spec_swarm_rolled_back_to_is_fine():
    # A re-run that declares what Swarm already rolled back to: nothing to wait for.
    rolled_back = service(V2, "rollback_completed", "rollback completed", OLD_SPEC)
    assert verdict(rolled_back, [task(V2), task(V2)], V2, 2, OLD_SPEC).done


@pytest.mark.parametrize("spec", [OLD_SPEC, None])
def test_without_a_declared_spec_the_label_is_not_looked_at(spec):
    rolled_back = service(V2, "rollback_completed", "rollback completed", spec)
    assert verdict(rolled_back, [task(V2), task(V2)], V2, 2).done
    assert verdict(rolled_back, [task(V2), task(V2)], V2, 2, None).done


def test_wait_fails_when_swarm_rolls_back_a_change_on_the_same_image():
    api = FakeApi(
        [
            (service(V2, "updating", "update in progress", NEW_SPEC), [task(V2)]),
            (service(V2, "rollback_completed", "rolled back", OLD_SPEC), [task(V2), task(V2)]),
        ]
    )
    with pytest.raises(
        RolloutFailed, match=rf"runs spec {OLD_SPEC[:12]}, not the declared {NEW_SPEC[:12]} .*rolled back"
    ):
        wait_for_rollout(api, "id", V2, 2, timeout_s=5, poll_s=0, spec_sha256=NEW_SPEC)  # type: ignore[arg-type]
    assert api.calls == 2


def test_wait_returns_once_swarm_finishes_the_declared_spec():
    api = FakeApi(
        [
            (service(V2, "updating", spec=NEW_SPEC), [task(V2)]),
            (service(V2, "completed", spec=NEW_SPEC), [task(V2), task(V2)]),
        ]
    )
    wait_for_rollout(api, "id", V2, 2, timeout_s=5, poll_s=0, spec_sha256=NEW_SPEC)  # type: ignore[arg-type]
    assert api.calls == 2


def props(spec_sha256: str) -> dict[str, Any]:
    return {"service_id": "id", "image": V2, "replicas": 2, "timeout_s": 1, "spec_sha256": spec_sha256}


def test_the_provider_checks_the_declared_spec_on_create_and_update(monkeypatch):
    rolled_back = service(V2, "rollback_completed", "rollback completed", OLD_SPEC)
    api = FakeApi([(rolled_back, [task(V2), task(V2)])])
    monkeypatch.setattr("swarm_zero_downtime.swarm.rollout_gate.docker_api", lambda host: api)
    provider = RolloutGateProvider()
    with pytest.raises(RolloutFailed, match="rollback_completed: rollback completed"):
        provider.create(props(NEW_SPEC))
    with pytest.raises(RolloutFailed, match="rollback_completed: rollback completed"):
        provider.update("rollout-of-id", props(OLD_SPEC), props(NEW_SPEC))
    # Declaring what Swarm runs (the old spec again) is done at once.
    assert provider.update("rollout-of-id", props(NEW_SPEC), props(OLD_SPEC)).outs == props(OLD_SPEC)


# --- the declared Swarm secrets: a new value is a new secret, the same spec label --------------------


def mounting(inspect: dict[str, Any], *secret_ids: str) -> dict[str, Any]:
    inspect["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"] = [
        {"SecretID": s, "SecretName": f"webapp-secret-DB_PASSWORD-{s}", "File": {"Name": "DB_PASSWORD"}}
        for s in secret_ids
    ]
    return inspect


def test_a_rotation_swarm_rolled_back_fails_though_the_spec_label_is_the_declared_one():
    rolled_back = mounting(service(V2, "rollback_completed", "rollback completed", NEW_SPEC), "old")
    result = verdict(rolled_back, [task(V2), task(V2)], V2, 2, NEW_SPEC, ["new"])
    assert result.failure == (
        "webapp-real-1a2b3c4 does not mount the declared Swarm secrets ['new']:"
        " Swarm's update state is rollback_completed: rollback completed"
    )


def test_a_rotation_waits_for_swarm_then_is_done_on_the_new_secret():
    tasks = [task(V2), task(V2)]
    updating = verdict(mounting(service(V2, "updating", "", NEW_SPEC), "new"), tasks, V2, 2, NEW_SPEC, ["new"])
    assert not updating.done and updating.failure is None
    assert verdict(mounting(service(V2, "completed", spec=NEW_SPEC), "new"), tasks, V2, 2, NEW_SPEC, ["new"]).done
    # Without declared secrets the mounts are not looked at.
    assert verdict(mounting(service(V2, "completed", spec=NEW_SPEC), "old"), tasks, V2, 2, NEW_SPEC).done


def test_the_provider_passes_the_declared_secrets_on(monkeypatch):
    rolled_back = mounting(service(V2, "rollback_completed", "rollback completed", NEW_SPEC), "old")
    monkeypatch.setattr(
        "swarm_zero_downtime.swarm.rollout_gate.docker_api", lambda host: FakeApi([(rolled_back, [task(V2), task(V2)])])
    )
    with pytest.raises(RolloutFailed, match=r"does not mount the declared Swarm secrets \['new'\]"):
        RolloutGateProvider().update("rollout-of-id", props(NEW_SPEC), {**props(NEW_SPEC), "secret_ids": ["new"]})
