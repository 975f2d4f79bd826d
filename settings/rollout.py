"""The rollout sections: Swarm's update_config (update*) and rollback_config (rollback*)."""

from __future__ import annotations

from settings.parsers import parse_choice, parse_duration, parse_int
from settings.reader import ConfigReader, complete
from swarm.values import HealthCheck, RolloutPolicy

UPDATE_ORDERS = ("start-first", "stop-first")
UPDATE_FAILURE_ACTIONS = ("rollback", "pause", "continue")
ROLLBACK_FAILURE_ACTIONS = ("pause", "continue")
HEALTH_KEYS = ("healthCheckStartPeriod", "healthCheckInterval", "healthCheckTimeout", "healthCheckRetries")


def read_rollout(r: ConfigReader, prefix: str, failure_actions: tuple[str, ...]) -> RolloutPolicy | None:
    return complete(
        RolloutPolicy,
        parallelism=r.read(f"{prefix}Parallelism", parse_int, 1),
        delay=r.read(f"{prefix}Delay", parse_duration),
        order=r.read(f"{prefix}Order", parse_choice, UPDATE_ORDERS),
        monitor=r.read(f"{prefix}Monitor", parse_duration, positive=True),
        failure_action=r.read(f"{prefix}FailureAction", parse_choice, failure_actions),
    )


def check_rollout(r: ConfigReader, prefix: str) -> None:
    """Rules between a rollout section and the pools and health-check keys it depends on."""
    if r.all_parsed(f"{prefix}Parallelism", "realReplicas"):
        parallelism, replicas = r.parsed[f"{prefix}Parallelism"], r.parsed["realReplicas"]
        r.require(
            parallelism <= replicas,
            f"{prefix}Parallelism",
            f"{parallelism} is above realReplicas ({replicas}); must be between 1 and {replicas}",
        )
    if r.all_parsed(f"{prefix}Monitor", *HEALTH_KEYS):
        start, interval, timeout, retries = (r.parsed[key] for key in HEALTH_KEYS)
        # Only the timings matter here, not the path.
        needed = HealthCheck("", interval, timeout, retries, start).seconds_to_unhealthy
        monitor = r.parsed[f"{prefix}Monitor"]
        r.require(
            monitor.seconds >= needed,
            f"{prefix}Monitor",
            f"{monitor.text!r} is shorter than healthCheckStartPeriod + (healthCheckInterval +"
            f" healthCheckTimeout) x healthCheckRetries ({needed:g}s): Swarm would call a rollout done"
            f" before a bad task is known to be unhealthy; must be at least {needed:g}s",
        )
