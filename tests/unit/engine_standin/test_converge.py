"""converge_config as pulumi-docker waits: StateChangeConf timing and the refresh functions' decisions."""

from __future__ import annotations

from typing import Any

import pytest

from engine_standin.swarm_applier import converge as cv
from tests.unit.engine_standin.fake_docker import FakeClock


def service(replicas: int = 2, status: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"ID": "s1", "Spec": {"Mode": {"Replicated": {"Replicas": replicas}}}}
    if status is not None:
        out["UpdateStatus"] = status
    return out


def task(slot: int, state: str, desired: str = "running", node: str = "n1") -> dict[str, Any]:
    return {"Slot": slot, "DesiredState": desired, "Status": {"State": state}, "NodeID": node}


def fetch(tasks: list[dict[str, Any]]) -> cv.TasksAndNodes:
    return lambda: (tasks, {"n1"})


# --- the refresh decisions ----------------------------------------------------------------


def test_update_is_done_once_every_slot_runs_even_mid_rollout():
    updating = service(status={"State": "updating", "Message": "update in progress"})
    # start-first: the old task still runs in each slot while the new one starts; the lowest
    # observed state wins the slot, so slot 2 counts as "starting".
    tasks = [task(1, "running"), task(2, "running"), task(2, "starting")]
    assert cv.update_refresh(updating, fetch(tasks)) == "updating"
    # Between steps (or in the monitor window) every slot has a running task: done, Swarm still updating.
    assert cv.update_refresh(updating, fetch([task(1, "running"), task(2, "running")])) == "completed"


def test_update_status_completed_is_done_without_looking_at_tasks():
    def no_tasks() -> tuple[list[dict[str, Any]], set[str]]:
        raise AssertionError("tasks are not read")

    assert cv.update_refresh(service(status={"State": "completed"}), no_tasks) == "completed"


@pytest.mark.parametrize(
    "state, message",
    [
        ("rollback_completed", "service rollback completed: rollback completed"),
        ("paused", "service update paused: update paused due to failure"),
        ("rollback_paused", "service rollback paused: rollback paused due to failure"),
    ],
)
def test_update_errors_on_swarms_failure_states(state, message):
    swarm_message = message.split(": ", 1)[1]
    with pytest.raises(cv.ProviderError, match=f"^{message}$"):
        cv.update_refresh(service(status={"State": state, "Message": swarm_message}), fetch([]))


def test_a_rollback_under_way_is_reported_completed_once_the_old_tasks_run():
    rolling_back = service(
        status={"State": "rollback_started", "Message": "update rolled back due to failure of task t1"}
    )
    assert cv.update_refresh(rolling_back, fetch([task(1, "running"), task(2, "starting")])) == "updating"
    with pytest.raises(
        cv.ProviderError, match=r"^service rollback completed: update rolled back due to failure of task t1$"
    ):
        cv.update_refresh(rolling_back, fetch([task(1, "running"), task(2, "running")]))


def test_no_update_status_means_the_task_count_decides():
    assert cv.update_refresh(service(), fetch([task(1, "running"), task(2, "running")])) == "completed"


def test_tasks_by_slot_ignores_inactive_nodes_and_unknown_states():
    tasks = [task(1, "running", node="down-node"), task(2, "running"), task(3, "orphaned")]
    assert set(cv.tasks_by_slot(tasks, {"n1"})) == {2}


def test_a_global_service_has_no_replica_count():
    with pytest.raises(cv.ProviderError, match="no replica count"):
        cv.create_refresh({"Spec": {"Mode": {"Global": {}}}}, fetch([]))


def test_create_waits_for_every_slot():
    assert cv.create_refresh(service(), fetch([task(1, "running")])) == "creating"
    assert cv.create_refresh(service(), fetch([task(1, "running"), task(2, "running")])) == "running"


# --- StateChangeConf timing -------------------------------------------------------------------


def test_update_wait_is_7s_then_5s_then_10s_apart():
    clock = FakeClock()
    answers = iter(["updating", "updating", "updating", "completed"])
    polled: list[float] = []

    def refresh() -> tuple[Any, str]:
        polled.append(clock.now)
        return "s1", next(answers)

    conf = cv.StateChangeConf(
        cv.SERVICE_UPDATE_PENDING, cv.SERVICE_UPDATE_TARGET, refresh, 300, 5, cv.UPDATE_CONVERGE_DELAY_S
    )
    assert cv.wait_for_state(conf, clock) == ("s1", "completed")
    assert polled == [7.0, 12.0, 22.0, 32.0]


def test_a_timeout_is_the_providers_did_not_converge_error():
    clock = FakeClock()
    conf = cv.StateChangeConf(cv.SERVICE_UPDATE_PENDING, cv.SERVICE_UPDATE_TARGET, lambda: ("s1", "updating"), 20, 5, 7)
    with pytest.raises(cv.WaitTimeout, match="timeout while waiting for state to become 'completed'"):
        cv.wait_for_state(conf, clock)
    assert clock.now == 20.0
    assert cv.did_not_converge("s1", "2m") == "Service with ID (s1) did not converge after 2m0s"


def test_an_unexpected_state_ends_the_wait():
    conf = cv.StateChangeConf(cv.SERVICE_CREATE_PENDING, cv.SERVICE_CREATE_TARGET, lambda: ("s1", "weird"), 60, 5, 0)
    with pytest.raises(cv.ProviderError, match="unexpected state 'weird'"):
        cv.wait_for_state(conf, FakeClock())


def test_create_waits_the_converge_delay_first():
    clock = FakeClock()
    polled: list[float] = []

    def refresh() -> tuple[Any, str]:
        polled.append(clock.now)
        return "s1", "running" if len(polled) > 1 else "creating"

    conf = cv.StateChangeConf(cv.SERVICE_CREATE_PENDING, cv.SERVICE_CREATE_TARGET, refresh, 300, 5, 2)
    cv.wait_for_state(conf, clock)
    assert polled == [2.0, 7.0]
