"""What a rolling update of a pool (or of the L7 nginx tier) will do, in numbers a reviewer can check.

Logged at preview time next to the service and exported, so a pull request
that changes the tag or the update settings shows how long the rollout takes,
whether any request has to lean on the backup pool, and what CPU and memory
Swarm must find on the nodes for it beyond the steady state.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass
from typing import Any

from swarm_zero_downtime.swarm.values import HealthCheck, ResourceAmounts, RolloutPolicy, TaskResources


@dataclass(frozen=True)
class RolloutPlan:
    pool: str
    replicas: int
    parallelism: int
    steps: int
    order: str
    health_gate: str
    estimated_seconds: float
    max_seconds: float
    min_tasks_serving: int
    needs_backup: bool
    extra_tasks: int
    """Tasks a rollout (or its rollback) runs at most beside the old ones: start-first steps."""
    reserved: ResourceAmounts
    """What Swarm sets aside for the service's tasks on the nodes, steady."""
    rollout_reserves_more: ResourceAmounts
    """What it sets aside on top while a step runs its extra tasks."""

    def describe(self) -> str:
        cover = "the backup pool serves meanwhile" if self.needs_backup else "no gap in the pool itself"
        return (
            f"rollout of the {self.pool} pool: {self.replicas} task(s), {self.parallelism} at a time = {self.steps} step(s),"
            f" {self.order}; a new task counts once {self.health_gate};"
            f" about {self.estimated_seconds:g}s (at most {self.max_seconds:g}s); at least {self.min_tasks_serving} {self.pool} task(s) serving ({cover})"
            + describe_reservations(
                self.reserved, self.rollout_reserves_more, f"its {self.replicas} task(s)", self.extra_tasks
            )
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def extra_tasks(order: str, parallelism: int, replicas: int) -> int:
    """Tasks a rollout step runs beside the old ones: start-first keeps each old task until its replacement is up."""
    return min(parallelism, replicas) if order == "start-first" else 0


def describe_reservations(reserved: ResourceAmounts, more: ResourceAmounts, tasks: str, extra: int) -> str:
    """The clause of a rollout's description on reservations; empty when the service reserves nothing."""
    if not reserved:
        return ""
    during = f"up to {more.text} more ({extra} extra task(s) at a time, start-first)" if extra else "nothing more"
    return f"; reserves {reserved.text} for {tasks}, a rollout {during}"


def plan_rollout(
    pool: str,
    replicas: int,
    update: RolloutPolicy,
    health: HealthCheck,
    rollback: RolloutPolicy | None = None,
    resources: TaskResources | None = None,
) -> RolloutPlan:
    steps = math.ceil(replicas / update.parallelism)
    # A rollback is a rollout too: Swarm needs room for whichever runs more at once.
    extra = max(extra_tasks(p.order, p.parallelism, replicas) for p in (update, rollback or update))
    per_task = (resources or TaskResources()).reservations
    # start-first keeps every old task until its replacement is healthy.
    serving = replicas if update.order == "start-first" else max(replicas - update.parallelism, 0)
    return RolloutPlan(
        pool=pool,
        replicas=replicas,
        parallelism=update.parallelism,
        steps=steps,
        order=update.order,
        health_gate=(
            f"GET {health.path} passes (start period {health.start_period.text},"
            f" then every {health.interval.text}, {health.retries} failures = unhealthy),"
            f" then a {update.delay.text} pause; Swarm watches {update.monitor.text} after the last step"
        ),
        # Swarm moves to the next step once the new task is healthy (first check
        # after one interval) and the delay has passed, and watches the monitor
        # window once after the last step; `make bench` measured 40.2 s for the
        # dev defaults, where this gives 39 s. The slowest task that still
        # passes is healthy just before it would have been called unhealthy.
        estimated_seconds=((health.interval + update.delay) * steps + update.monitor).seconds,
        max_seconds=((health.time_to_unhealthy + update.delay) * steps + update.monitor).seconds,
        min_tasks_serving=serving,
        # The real pool leans on the backup pool when it has no task left; the
        # backup pool rolls only while the real pool serves.
        needs_backup=pool == "real" and serving == 0,
        extra_tasks=extra,
        reserved=per_task.times(replicas),
        rollout_reserves_more=per_task.times(extra),
    )


def followup_policy(update: RolloutPolicy, health: HealthCheck) -> RolloutPolicy:
    """The rollout of a pool that gets an image the gated pool has just run through its whole monitor window.

    That window is what catches a bad image; after it, watching this pool only
    needs to catch a task that stops passing its checks, which Docker reports
    within (interval + timeout) x retries of its last good check.
    """
    return dataclasses.replace(update, monitor=min(update.monitor, health.time_to_turn_unhealthy))
