"""The rollout plan the program logs at preview time and exports."""

from __future__ import annotations

import logging

from offline_runner.mock_program import run_stack
from swarm.rollout_plan import followup_policy, plan_rollout
from swarm.values import SECOND, Duration, HealthCheck, RolloutPolicy


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
