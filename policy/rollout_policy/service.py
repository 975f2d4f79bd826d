"""What a pulumi-docker Service's inputs say about its rollout, as the policy engine passes them.

The engine hands a policy the inputs after the provider's check, in the
provider's own (camelCase) names: ``taskSpec.containerSpec.healthcheck``,
``updateConfig.order``, and ``name`` already filled in by auto-naming.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rollout_policy.durations import parse_duration

SERVICE = "docker:index/service:Service"

# Service labels this program sets (swarm/naming.py), and how another program
# marks the same services for these policies.
POOL_LABEL = "swarm-zero-downtime.pool"
BACKUP_POOL = "backup"
TIER_LABEL = "swarm-zero-downtime.tier"
L7_TIER = "l7"

# What Docker uses for a health-check timing the spec leaves at zero when the
# image sets none either (moby daemon/health.go: defaultProbeInterval,
# defaultProbeTimeout, defaultStartPeriod, defaultProbeRetries).
DEFAULT_INTERVAL = parse_duration("30s")
DEFAULT_TIMEOUT = parse_duration("30s")
DEFAULT_START_PERIOD = 0
DEFAULT_RETRIES = 3

# The name pulumi-docker's auto-naming gives a service: its logical name, "-"
# and 7 random hex characters (pulumi-terraform-bridge's default autonaming,
# resource.NewUniqueHex).
_AUTONAME_SUFFIX = re.compile(r"-[0-9a-f]{7}")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: Any) -> Sequence[Any]:
    return value if isinstance(value, Sequence) and not isinstance(value, str) else ()


def health_check(props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The service's ``taskSpec.containerSpec.healthcheck``, or None when it declares none."""
    check = _mapping(props.get("taskSpec")).get("containerSpec")
    found = _mapping(check).get("healthcheck")
    return found if isinstance(found, Mapping) else None


def health_disabled(check: Mapping[str, Any]) -> bool:
    """``tests: ["NONE"]``: Docker runs no check, not even the image's."""
    tests = _sequence(check.get("tests"))
    return bool(tests) and tests[0] == "NONE"


@dataclass(frozen=True)
class HealthTimings:
    """A health check's timings in nanoseconds, Docker's defaults where the spec leaves zero."""

    interval: int
    timeout: int
    retries: int
    start_period: int

    @classmethod
    def of(cls, check: Mapping[str, Any]) -> HealthTimings:
        def duration(key: str, default: int) -> int:
            return parse_duration(str(check.get(key) or "0")) or default

        return cls(
            interval=duration("interval", DEFAULT_INTERVAL),
            timeout=duration("timeout", DEFAULT_TIMEOUT),
            retries=int(check.get("retries") or 0) or DEFAULT_RETRIES,
            start_period=duration("startPeriod", DEFAULT_START_PERIOD),
        )

    @property
    def time_to_turn_unhealthy(self) -> int:
        """The program's HealthCheck.time_to_turn_unhealthy (swarm/values.py): (interval + timeout) x retries."""
        return (self.interval + self.timeout) * self.retries

    @property
    def time_to_unhealthy(self) -> int:
        """The program's HealthCheck.time_to_unhealthy (swarm/values.py): start period, then the above."""
        return self.start_period + self.time_to_turn_unhealthy


def update_config(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """``updateConfig``; empty when unset (Swarm's defaults: stop-first, failure action pause, 5 s monitor)."""
    return _mapping(props.get("updateConfig"))


def label(props: Mapping[str, Any], key: str) -> str | None:
    """The value of the service label ``key`` (pulumi-docker's ``labels: [{label, value}]``)."""
    for entry in _sequence(props.get("labels")):
        if _mapping(entry).get("label") == key:
            return str(entry.get("value"))
    return None


def publishes_in_host_mode(props: Mapping[str, Any]) -> bool:
    """Some published port is bound on the node itself: one task per node can hold it."""
    ports = _sequence(_mapping(props.get("endpointSpec")).get("ports"))
    return any(_mapping(port).get("publishMode") == "host" for port in ports)


def replicas(props: Mapping[str, Any]) -> int | None:
    """Tasks of a replicated service (Swarm's default: replicated, 1); None for a global one."""
    mode = _mapping(props.get("mode"))
    if mode.get("global"):
        return None
    return int(_mapping(mode.get("replicated")).get("replicas", 1))


def auto_named(props: Mapping[str, Any], logical_name: str) -> bool:
    """The ``name`` input is unset or what auto-naming made of ``logical_name``."""
    name = props.get("name")
    if name is None:
        return True
    return (
        isinstance(name, str)
        and name.startswith(logical_name)
        and bool(_AUTONAME_SUFFIX.fullmatch(name[len(logical_name) :]))
    )
