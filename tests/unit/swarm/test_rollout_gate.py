"""The rollout gate's verdict on Swarm's view of a service, and its wait, without Docker."""

from __future__ import annotations

from typing import Any

import pytest

from swarm.rollout_gate import RolloutFailed, RolloutGateProvider, same_image, verdict, wait_for_rollout

V1, V2, BAD = "szd-testapp:v1", "szd-testapp:v2", "szd-testapp:bad"
DIGEST = "@sha256:" + "ab" * 32


def service(image: str, state: str | None = None, message: str = "") -> dict[str, Any]:
    inspect: dict[str, Any] = {
        "Spec": {"Name": "webapp-real-1a2b3c4", "TaskTemplate": {"ContainerSpec": {"Image": image}}}
    }
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
    api = FakeApi([(service(V2, "completed"), [task(V2)])], [node()])
    monkeypatch.setattr("swarm.rollout_gate.docker_api", lambda host: api)
    result = RolloutGateProvider().create({"service_id": "id", "image": V2, "timeout_s": 1})
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
