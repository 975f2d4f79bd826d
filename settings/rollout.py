"""The rollout sections: Swarm's update_config (update*) and rollback_config (rollback*)."""

from __future__ import annotations

from swarm_zero_downtime.settings.parsers import Choice, DurationRule, Integer, Rule
from swarm_zero_downtime.settings.reader import ConfigReader, complete, section_reader
from swarm_zero_downtime.swarm.values import HOUR, MILLISECOND, HealthCheck, RolloutPolicy

ORDER = Choice(("start-first", "stop-first"))
HEALTH_KEYS = ("healthCheckStartPeriod", "healthCheckInterval", "healthCheckTimeout", "healthCheckRetries")


def _rules(prefix: str, failure_actions: tuple[str, ...]) -> dict[str, Rule[object]]:
    return {
        f"{prefix}Parallelism": Integer(1, 100),
        f"{prefix}Delay": DurationRule(0, HOUR),
        f"{prefix}Order": ORDER,
        f"{prefix}Monitor": DurationRule(MILLISECOND, HOUR),
        f"{prefix}FailureAction": Choice(failure_actions),
    }


UPDATE_RULES = _rules("update", ("rollback", "pause", "continue"))
ROLLBACK_RULES = _rules("rollback", ("pause", "continue"))
RULES = {**UPDATE_RULES, **ROLLBACK_RULES}


def read_rollout(r: ConfigReader, prefix: str) -> RolloutPolicy | None:
    read = section_reader(r, RULES)
    return complete(
        RolloutPolicy,
        parallelism=read(f"{prefix}Parallelism"),
        delay=read(f"{prefix}Delay"),
        order=read(f"{prefix}Order"),
        monitor=read(f"{prefix}Monitor"),
        failure_action=read(f"{prefix}FailureAction"),
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
        needed = HealthCheck("", interval, timeout, retries, start).time_to_unhealthy
        monitor = r.parsed[f"{prefix}Monitor"]
        r.require(
            monitor >= needed,
            f"{prefix}Monitor",
            f"{monitor.text!r} is shorter than healthCheckStartPeriod + (healthCheckInterval +"
            f" healthCheckTimeout) x healthCheckRetries ({needed.text}): Swarm would call a rollout done"
            f" before a bad task is known to be unhealthy; must be at least {needed.text}",
        )
