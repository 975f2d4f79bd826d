"""Values of a Swarm service spec: what the settings produce and the components consume."""

from __future__ import annotations

from dataclasses import dataclass

# Durations are whole nanoseconds, as Go's time.Duration and the Docker API count them.
MICROSECOND = 1_000
MILLISECOND = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
# The edge and the L7 tier roll one task at a time: their update_config
# (components/nginx_service.py) and the overlay's address count (settings/overlay.py).
NGINX_PARALLELISM = 1


def _fraction(value: int, scale: int) -> str:
    whole, rest = divmod(value, scale)
    if not rest:
        return str(whole)
    return f"{whole}.{str(rest).rjust(len(str(scale)) - 1, '0').rstrip('0')}"


def go_duration(nanos: int) -> str:
    """The text pulumi-docker reads a duration back as: Go's Duration.String() made short.

    kreuzwerker's shortDur drops a trailing "0s" after minutes and "0m" after
    hours (resource_docker_service_structures.go), so 90s reads back as 1m30s
    and 60s as 1m; an input written any other way would diff on every preview.
    """
    if nanos < 0:
        return "-" + go_duration(-nanos)
    if nanos == 0:
        return "0s"
    if nanos < MICROSECOND:
        return f"{nanos}ns"
    if nanos < MILLISECOND:
        return _fraction(nanos, MICROSECOND) + "\u00b5s"
    if nanos < SECOND:
        return _fraction(nanos, MILLISECOND) + "ms"
    minutes, rest = divmod(nanos, MINUTE)
    text = _fraction(rest, SECOND) + "s"
    if minutes:
        hours, minutes = divmod(minutes, 60)
        text = f"{minutes}m{text}"
        if hours:
            text = f"{hours}h{text}"
    if text.endswith("m0s"):
        text = text[:-2]
    if text.endswith("h0m"):
        text = text[:-2]
    return text


@dataclass(frozen=True, order=True)
class Duration:
    nanos: int

    @property
    def text(self) -> str:
        """As Swarm specs take it, in the form pulumi-docker reads back (no perpetual diff)."""
        return go_duration(self.nanos)

    @property
    def seconds(self) -> float:
        """For figures people read (estimates); every comparison uses ``nanos``."""
        return self.nanos / SECOND

    @property
    def nginx(self) -> str:
        """The same duration in nginx's time syntax (whole ms, or whole s)."""
        if self.nanos % SECOND == 0:
            return f"{self.nanos // SECOND}s"
        return f"{self.nanos // MILLISECOND}ms"

    def __add__(self, other: Duration) -> Duration:
        return Duration(self.nanos + other.nanos)

    def __mul__(self, factor: int) -> Duration:
        return Duration(self.nanos * factor)


KIB = 1024
GIB = KIB**3
_SIZE_UNITS = (("g", KIB**3), ("m", KIB**2), ("k", KIB))


@dataclass(frozen=True, order=True)
class ByteSize:
    """A size in bytes, as nginx reads one (client_max_body_size)."""

    bytes: int

    @property
    def nginx(self) -> str:
        """In the largest of nginx's units (k, m, g: 1024-based) that holds it whole."""
        for unit, size in _SIZE_UNITS:
            if self.bytes and self.bytes % size == 0:
                return f"{self.bytes // size}{unit}"
        return str(self.bytes)


@dataclass(frozen=True)
class HealthCheck:
    path: str
    interval: Duration
    timeout: Duration
    retries: int
    start_period: Duration

    @property
    def time_to_unhealthy(self) -> Duration:
        """Longest time Docker may take to call a task that never works unhealthy.

        Docker waits an interval after each check ends, and a hanging check
        ends only at its timeout (moby daemon/health.go).
        """
        return self.start_period + self.time_to_turn_unhealthy

    @property
    def time_to_turn_unhealthy(self) -> Duration:
        """Longest time Docker may take to call a task unhealthy once it has passed a check."""
        return (self.interval + self.timeout) * self.retries


@dataclass(frozen=True)
class RolloutPolicy:
    """Swarm's update_config or rollback_config."""

    parallelism: int
    delay: Duration
    order: str
    monitor: Duration
    failure_action: str
