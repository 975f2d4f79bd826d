"""The health-check section: when Swarm counts an app task as ready."""

from __future__ import annotations

from settings.parsers import parse_duration, parse_int, parse_url_path
from settings.reader import ConfigReader, complete
from swarm.values import HealthCheck


def read_health(r: ConfigReader) -> HealthCheck | None:
    return complete(
        HealthCheck,
        path=r.read("healthCheckPath", parse_url_path),
        interval=r.read("healthCheckInterval", parse_duration, positive=True),
        timeout=r.read("healthCheckTimeout", parse_duration, positive=True),
        retries=r.read("healthCheckRetries", parse_int, 1, 100),
        start_period=r.read("healthCheckStartPeriod", parse_duration),
    )
