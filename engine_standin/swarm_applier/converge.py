"""pulumi-docker's waits: terraform-plugin-sdk's StateChangeConf and the provider's refresh functions.

``wait_for_state`` is ``retry.StateChangeConf.WaitForStateContext``
(terraform-plugin-sdk v2 helper/retry/state.go, as vendored through pulumi's
fork): sleep ``Delay``; refresh at once; then wait 5 s (100 ms doubled = 200
ms, raised to ``MinTimeout``), then 10 s, 10 s, ... (doubled each time, at
most 10 s); a refresh error ends the wait with that error; a state neither
pending nor target is an ``unexpected state`` error; the ``Timeout`` clock
starts before the delay, and a refresh already running when it strikes may
still finish and succeed (the 30 s grace period), otherwise ``timeout while
waiting for state to become ...``.

The refresh functions are kreuzwerker v4.5.0
internal/provider/resource_docker_service_funcs.go:

- ``update_refresh``: ``resourceDockerServiceUpdateRefreshFunc``. UpdateStatus
  ``completed`` -> done; ``rollback_completed``, ``paused``,
  ``rollback_paused`` -> error with Swarm's message; otherwise (``updating``,
  ``rollback_started``, or no UpdateStatus at all) done as soon as every
  replica slot has a running task (``replicatedConsoleLogUpdater.update``), so
  "done" can come between update steps or inside Swarm's monitor window, and
  while Swarm rolls back it is the error "service rollback completed: ..."
  even though the rollback is still running.
- ``create_refresh``: ``resourceDockerServiceCreateRefreshFunc``: "running"
  once every slot has a running task, else "creating".

The updater is created afresh on every refresh (``var updater
progressUpdater`` inside the closure), so its ``done`` memory never carries
over: each poll decides on that poll's tasks alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from engine_standin.swarm_applier.gotime import go_string, parse_duration_or_zero
from engine_standin.swarm_applier.report import ApplyError

# resource_docker_service_funcs.go numberedStates (swarm.TaskState -> order).
NUMBERED_STATES = {
    "new": 1,
    "allocated": 2,
    "pending": 3,
    "assigned": 4,
    "accepted": 5,
    "preparing": 6,
    "ready": 7,
    "starting": 8,
    "running": 9,
    "complete": 10,
    "shutdown": 11,
    "failed": 12,
    "rejected": 13,
}
SERVICE_CREATE_PENDING = (
    "new",
    "allocated",
    "pending",
    "assigned",
    "accepted",
    "preparing",
    "ready",
    "starting",
    "creating",
    "paused",
)
SERVICE_CREATE_TARGET = ("running", "complete")
SERVICE_UPDATE_PENDING = ("creating", "updating")
SERVICE_UPDATE_TARGET = ("completed",)

UPDATE_CONVERGE_DELAY_S = (
    7.0  # resourceDockerServiceUpdate: Delay: 7 * time.Second, whatever converge_config.delay says
)
CONVERGE_MIN_TIMEOUT_S = 5.0  # MinTimeout: 5 * time.Second (create and update)
READ_DELAY_S = 2.0  # resourceDockerServiceRead: Delay 2s, MinTimeout 5s, Timeout 30s
READ_MIN_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
REFRESH_GRACE_S = 30.0  # helper/retry/state.go refreshGracePeriod


class ProviderError(ApplyError):
    """An error pulumi-docker returns, with the provider's message."""


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class RealClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass
class StateChangeConf:
    pending: tuple[str, ...]
    target: tuple[str, ...]
    refresh: Callable[[], tuple[Any, str]]  # (result, state); raises ProviderError to stop
    timeout: float
    min_timeout: float = 0.0
    delay: float = 0.0


class WaitTimeout(ProviderError):
    """helper/retry TimeoutError."""

    def __init__(self, conf: StateChangeConf, last_state: str):
        super().__init__(
            f"timeout while waiting for state to become '{', '.join(conf.target)}'"
            f" (last state: '{last_state}', timeout: {go_string(round(conf.timeout * 1e9))})"
        )
        self.last_state = last_state


def wait_for_state(conf: StateChangeConf, clock: Clock) -> tuple[Any, str]:
    """StateChangeConf.WaitForStateContext: (result, state) of the refresh that reached a target state."""
    deadline = clock.monotonic() + conf.timeout
    last_state = ""
    if conf.delay > 0:
        if clock.monotonic() + conf.delay >= deadline:
            clock.sleep(max(0.0, deadline - clock.monotonic()))
            raise WaitTimeout(conf, last_state)
        clock.sleep(conf.delay)
    wait = 0.0
    while True:
        if wait:
            if clock.monotonic() + wait >= deadline:
                clock.sleep(max(0.0, deadline - clock.monotonic()))
                raise WaitTimeout(conf, last_state)
            clock.sleep(wait)
        else:
            wait = 0.1  # "first round had no wait"
        try:
            result, state = conf.refresh()
        except ProviderError:
            if clock.monotonic() >= deadline:
                # The error came in the grace period: WaitForStateContext reports the timeout.
                raise WaitTimeout(conf, last_state) from None
            raise
        if state in conf.target:
            return result, state  # also when it finished in the grace period after the timeout
        if state not in conf.pending and conf.pending:
            raise ProviderError(f"unexpected state '{state}', wanted target '{', '.join(conf.target)}'")
        last_state = state
        if clock.monotonic() >= deadline:
            raise WaitTimeout(conf, last_state)
        wait *= 2
        if wait < conf.min_timeout:
            wait = conf.min_timeout
        elif wait > 10.0:
            wait = 10.0


def tasks_by_slot(tasks: list[dict[str, Any]], active_nodes: set[str]) -> dict[int, dict[str, Any]]:
    """replicatedConsoleLogUpdater.tasksBySlot: per slot the task with the lowest desired, then observed, state."""
    by_slot: dict[int, dict[str, Any]] = {}
    for task in tasks:
        desired = NUMBERED_STATES.get(task.get("DesiredState", ""), 0)
        observed = NUMBERED_STATES.get(task["Status"]["State"], 0)
        if desired == 0 or observed == 0:
            continue
        slot = task.get("Slot", 0)
        existing = by_slot.get(slot)
        if existing is not None:
            existing_desired = NUMBERED_STATES[existing["DesiredState"]]
            if existing_desired < desired:
                continue
            if existing_desired == desired and NUMBERED_STATES[existing["Status"]["State"]] <= observed:
                continue
        if task.get("NodeID") and task["NodeID"] not in active_nodes:
            continue
        by_slot[slot] = task
    return by_slot


def all_slots_running(service: dict[str, Any], tasks: list[dict[str, Any]], active_nodes: set[str]) -> bool:
    """replicatedConsoleLogUpdater.update: as many slots with a running (desired not terminal) task as replicas."""
    replicated = (service["Spec"].get("Mode") or {}).get("Replicated")
    if replicated is None or replicated.get("Replicas") is None:
        raise ProviderError("no replica count")
    running = sum(
        1
        for task in tasks_by_slot(tasks, active_nodes).values()
        if NUMBERED_STATES[task["DesiredState"]] <= NUMBERED_STATES["running"] and task["Status"]["State"] == "running"
    )
    return running == int(replicated["Replicas"])


TasksAndNodes = Callable[[], tuple[list[dict[str, Any]], set[str]]]


def update_refresh(service: dict[str, Any], tasks_and_nodes: TasksAndNodes) -> str:
    """resourceDockerServiceUpdateRefreshFunc: "completed" or "updating"; ProviderError on Swarm's failure states."""
    status = service.get("UpdateStatus")
    rollback = False
    if status is not None:
        state, message = status.get("State", ""), status.get("Message", "")
        if state == "completed":
            return "completed"
        if state == "rollback_started":
            rollback = True
        if state == "rollback_completed":
            raise ProviderError(f"service rollback completed: {message}")
        if state == "paused":
            raise ProviderError(f"service update paused: {message}")
        if state == "rollback_paused":
            raise ProviderError(f"service rollback paused: {message}")
    tasks, nodes = tasks_and_nodes()
    if all_slots_running(service, tasks, nodes):
        if rollback:
            raise ProviderError(f"service rollback completed: {(status or {}).get('Message', '')}")
        return "completed"
    return "updating"


def create_refresh(service: dict[str, Any], tasks_and_nodes: TasksAndNodes) -> str:
    """resourceDockerServiceCreateRefreshFunc: "running" once every slot runs, else "creating"."""
    tasks, nodes = tasks_and_nodes()
    return "running" if all_slots_running(service, tasks, nodes) else "creating"


def did_not_converge(service_id: str, timeout_text: str) -> str:
    """DidNotConvergeError.Error(): the timeout as Go prints a time.Duration."""
    return f"Service with ID ({service_id}) did not converge after {go_string(parse_duration_or_zero(timeout_text))}"
