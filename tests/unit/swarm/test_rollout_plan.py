"""The rollout plan the program logs at preview time and exports."""

from __future__ import annotations

import logging

from offline_runner.mock_program import run_stack
from swarm_zero_downtime.swarm.rollout_plan import followup_policy, plan_rollout
from swarm_zero_downtime.swarm.values import (
    SECOND,
    Duration,
    HealthCheck,
    ResourceAmounts,
    RolloutPolicy,
    TaskResources,
)


def d(seconds: int) -> Duration:
    return Duration(seconds * SECOND)


HEALTH = HealthCheck(path="/healthcheck", interval=d(2), timeout=d(2), retries=3, start_period=d(10))


def policy(parallelism: int, order: str) -> RolloutPolicy:
    return RolloutPolicy(parallelism=parallelism, delay=d(5), order=order, monitor=d(20), failure_action="rollback")


def test_dev_plan_is_exported_for_both_pools(dev):
    plan = dev.outputs["rollout_plan"]
    assert set(plan) == {"real", "backup"}
    assert plan["real"]["steps"] == 2
    # Two steps of (first health check + no delay), then one monitor window.
    assert plan["real"]["estimated_seconds"] == 2 * (2 + 0) + 25
    # The slowest task that still passes: start period + (interval + timeout) x retries.
    assert plan["real"]["max_seconds"] == 2 * (10 + (2 + 2) * 3 + 0) + 25
    assert plan["real"]["min_tasks_serving"] == 2
    assert plan["real"]["needs_backup"] is False


def test_start_first_keeps_every_task_serving():
    plan = plan_rollout("real", 4, policy(2, "start-first"), HEALTH)
    assert (plan.steps, plan.min_tasks_serving, plan.needs_backup) == (2, 4, False)


def test_stop_first_loses_capacity_and_may_need_the_backup_pool():
    assert plan_rollout("real", 3, policy(1, "stop-first"), HEALTH).min_tasks_serving == 2
    all_at_once = plan_rollout("real", 2, policy(2, "stop-first"), HEALTH)
    assert (all_at_once.steps, all_at_once.min_tasks_serving, all_at_once.needs_backup) == (1, 0, True)
    assert plan_rollout("backup", 2, policy(2, "stop-first"), HEALTH).needs_backup is False


def test_uneven_steps_round_up():
    assert plan_rollout("real", 5, policy(2, "start-first"), HEALTH).steps == 3


def test_description_states_the_numbers():
    text = plan_rollout("real", 2, policy(1, "start-first"), HEALTH).describe()
    assert text == (
        "rollout of the real pool: 2 task(s), 1 at a time = 2 step(s), start-first; a new task counts once"
        " GET /healthcheck passes (start period 10s, then every 2s, 3 failures = unhealthy), then a 5s pause;"
        " Swarm watches 20s after the last step; about 34s (at most 74s); at least 2 real task(s) serving (no gap in the pool itself)"
    )


def test_plan_is_logged_and_a_too_short_converge_timeout_warned(caplog):
    with caplog.at_level(logging.INFO):
        run_stack("dev", overrides={"convergeTimeout": "1m"})
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("rollout of the real pool: 2 task(s)") for m in messages), messages
    assert any(
        "convergeTimeout 1m is shorter than the longest (69s) rollout of the real pool" in m for m in messages
    ), messages


def test_followup_pool_watches_only_for_a_task_that_stops_passing_its_checks():
    # HEALTH: interval 2s, timeout 2s, 3 retries -> 12s; never longer than the update's own monitor.
    assert followup_policy(policy(1, "start-first"), HEALTH).monitor == d(12)
    short = RolloutPolicy(parallelism=1, delay=d(0), order="start-first", monitor=d(5), failure_action="rollback")
    assert followup_policy(short, HEALTH) == short


MIB = 1024**2
RESERVING = TaskResources(reservations=ResourceAmounts(nano_cpus=50_000_000, memory_bytes=16 * MIB))


def test_start_first_reserves_parallelism_tasks_more_while_a_step_runs():
    plan = plan_rollout("real", 4, policy(2, "start-first"), HEALTH, policy(1, "start-first"), RESERVING)
    assert plan.extra_tasks == 2
    assert plan.reserved == ResourceAmounts(200_000_000, 64 * MIB)
    assert plan.rollout_reserves_more == ResourceAmounts(100_000_000, 32 * MIB)
    assert plan.describe().endswith(
        "; reserves 0.2 CPU and 64 MiB for its 4 task(s),"
        " a rollout up to 0.1 CPU and 32 MiB more (2 extra task(s) at a time, start-first)"
    )


def test_a_rollback_that_runs_more_at_once_needs_the_room_too():
    plan = plan_rollout("real", 4, policy(1, "stop-first"), HEALTH, policy(3, "start-first"), RESERVING)
    assert (plan.extra_tasks, plan.rollout_reserves_more) == (3, ResourceAmounts(150_000_000, 48 * MIB))


def test_stop_first_reserves_nothing_more():
    plan = plan_rollout("real", 3, policy(1, "stop-first"), HEALTH, policy(1, "stop-first"), RESERVING)
    assert (plan.extra_tasks, plan.rollout_reserves_more) == (0, ResourceAmounts(0, 0))
    assert plan.describe().endswith("; reserves 0.15 CPU and 48 MiB for its 3 task(s), a rollout nothing more")


def test_extra_tasks_never_exceed_the_replicas():
    only_memory = TaskResources(reservations=ResourceAmounts(memory_bytes=16 * MIB))
    plan = plan_rollout("real", 1, policy(1, "start-first"), HEALTH, None, only_memory)
    assert (plan.extra_tasks, plan.rollout_reserves_more) == (1, ResourceAmounts(None, 16 * MIB))
    assert plan.describe().endswith(
        "; reserves 16 MiB for its 1 task(s), a rollout up to 16 MiB more (1 extra task(s) at a time, start-first)"
    )


def test_limits_alone_reserve_nothing_and_say_nothing():
    limited = TaskResources(limits=ResourceAmounts(1_000_000_000, 128 * MIB))
    plan = plan_rollout("real", 2, policy(1, "start-first"), HEALTH, None, limited)
    assert plan.reserved == plan.rollout_reserves_more == ResourceAmounts()
    assert "reserves" not in plan.describe()


def test_the_exported_plan_says_what_a_rollout_reserves():
    overrides: dict[str, object] = {"appResources": {"reservations": {"cpus": "0.05", "memory": "16M"}}}
    plan = run_stack("dev", overrides=overrides).outputs["rollout_plan"]["real"]
    assert plan["reserved"] == {"nano_cpus": 100_000_000, "memory_bytes": 32 * MIB}
    assert plan["rollout_reserves_more"] == {"nano_cpus": 50_000_000, "memory_bytes": 16 * MIB}
    assert plan["extra_tasks"] == 1
