"""The pools section: how many tasks, how they stop, how nginx reaches them."""

from __future__ import annotations

from dataclasses import dataclass

from settings.parsers import parse_bool, parse_choice, parse_duration, parse_int
from settings.reader import ConfigReader, complete
from swarm.values import Duration

ENDPOINT_MODES = ("dnsrr", "vip")


@dataclass(frozen=True)
class PoolSettings:
    real_replicas: int
    backup_enabled: bool
    backup_replicas: int
    stop_grace_period: Duration
    endpoint_mode: str
    converge_timeout: Duration


def read_pools(r: ConfigReader) -> PoolSettings | None:
    return complete(
        PoolSettings,
        real_replicas=r.read("realReplicas", parse_int, 1),
        backup_enabled=r.read("backupEnabled", parse_bool),
        backup_replicas=r.read("backupReplicas", parse_int, 1),
        stop_grace_period=r.read("stopGracePeriod", parse_duration),
        endpoint_mode=r.read("endpointMode", parse_choice, ENDPOINT_MODES),
        converge_timeout=r.read("convergeTimeout", parse_duration, positive=True),
    )
