"""The health-check section: when Swarm counts an app task as ready."""

from __future__ import annotations

from swarm_zero_downtime.settings.parsers import URL_PATH, DurationRule, Integer, Rule
from swarm_zero_downtime.settings.reader import ConfigReader, complete, section_reader
from swarm_zero_downtime.swarm.values import HOUR, MILLISECOND, MINUTE, HealthCheck

# Docker refuses an interval or timeout under 1 ms (daemon: "cannot be less than 1ms").
CHECK_TIME = DurationRule(MILLISECOND, 10 * MINUTE)
RULES: dict[str, Rule[object]] = {
    "healthCheckPath": URL_PATH,
    "healthCheckInterval": CHECK_TIME,
    "healthCheckTimeout": CHECK_TIME,
    "healthCheckRetries": Integer(1, 100),
    "healthCheckStartPeriod": DurationRule(0, HOUR),
}


def read_health(r: ConfigReader) -> HealthCheck | None:
    read = section_reader(r, RULES)
    return complete(
        HealthCheck,
        path=read("healthCheckPath"),
        interval=read("healthCheckInterval"),
        timeout=read("healthCheckTimeout"),
        retries=read("healthCheckRetries"),
        start_period=read("healthCheckStartPeriod"),
    )
