"""Values of a Swarm service spec: what the settings produce and the components consume."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Duration:
    """A duration as the user wrote it (Swarm takes it verbatim) and in seconds."""

    text: str
    seconds: float

    @property
    def nginx(self) -> str:
        """The same duration in nginx's time syntax (whole ms, or whole s)."""
        millis = round(self.seconds * 1000)
        return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


@dataclass(frozen=True)
class HealthCheck:
    path: str
    interval: Duration
    timeout: Duration
    retries: int
    start_period: Duration

    @property
    def seconds_to_unhealthy(self) -> float:
        """Longest time Docker may take to call a task that never works unhealthy.

        Docker waits an interval after each check ends, and a hanging check
        ends only at its timeout (moby daemon/health.go).
        """
        return self.start_period.seconds + (self.interval.seconds + self.timeout.seconds) * self.retries


@dataclass(frozen=True)
class RolloutPolicy:
    """Swarm's update_config or rollback_config."""

    parallelism: int
    delay: Duration
    order: str
    monitor: Duration
    failure_action: str
