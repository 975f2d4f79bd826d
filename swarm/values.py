"""Values of a Swarm service spec: what the settings produce and the components consume."""

from __future__ import annotations

from dataclasses import dataclass, field

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


# Docker counts CPUs in billionths (NanoCPUs), as `docker service create --limit-cpu` sends them.
NANO_CPUS = 1_000_000_000
_MEMORY_UNITS = (("GiB", KIB**3), ("MiB", KIB**2), ("KiB", KIB))


def cpus_text(nano_cpus: int) -> str:
    """CPUs as people write them: 0.05, 1, 2.5."""
    return _fraction(nano_cpus, NANO_CPUS)


def memory_text(size: int) -> str:
    """Bytes in the largest binary unit that holds them whole: 16 MiB, 1536 KiB, 100 B."""
    for unit, scale in _MEMORY_UNITS:
        if size and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


@dataclass(frozen=True)
class ResourceAmounts:
    """CPUs and memory of one task; None: not set."""

    nano_cpus: int | None = None
    memory_bytes: int | None = None

    def __bool__(self) -> bool:
        return self.nano_cpus is not None or self.memory_bytes is not None

    def times(self, tasks: int) -> ResourceAmounts:
        return ResourceAmounts(
            None if self.nano_cpus is None else self.nano_cpus * tasks,
            None if self.memory_bytes is None else self.memory_bytes * tasks,
        )

    @property
    def text(self) -> str:
        parts = [f"{cpus_text(self.nano_cpus)} CPU"] if self.nano_cpus is not None else []
        parts += [memory_text(self.memory_bytes)] if self.memory_bytes is not None else []
        return " and ".join(parts) or "nothing"


@dataclass(frozen=True)
class TaskResources:
    """Swarm's Resources of a service's tasks: limits the kernel enforces, reservations the scheduler places by."""

    limits: ResourceAmounts = field(default_factory=ResourceAmounts)
    reservations: ResourceAmounts = field(default_factory=ResourceAmounts)
