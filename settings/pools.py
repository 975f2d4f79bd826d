"""The pools section: how many tasks, how they stop, how nginx reaches them."""

from __future__ import annotations

from dataclasses import dataclass

from swarm_zero_downtime.settings.parsers import NODE_LABEL, Boolean, Choice, DurationRule, Integer, Rule
from swarm_zero_downtime.settings.reader import ConfigReader, complete, section_reader
from swarm_zero_downtime.swarm.values import HOUR, SECOND, Duration

REPLICAS = Integer(1, 100)
RULES: dict[str, Rule[object]] = {
    "realReplicas": REPLICAS,
    "backupEnabled": Boolean(),
    "backupReplicas": REPLICAS,
    "stopGracePeriod": DurationRule(0, HOUR),
    "endpointMode": Choice(("dnsrr", "vip")),
    "convergeTimeout": DurationRule(SECOND, 24 * HOUR),
    "spreadOver": NODE_LABEL,
}


@dataclass(frozen=True)
class PoolSettings:
    real_replicas: int
    backup_enabled: bool
    backup_replicas: int
    stop_grace_period: Duration
    endpoint_mode: str
    converge_timeout: Duration
    spread_over: str
    """A node label to spread tasks over ("zone"), or "": Swarm's own spread over nodes."""


def read_pools(r: ConfigReader) -> PoolSettings | None:
    read = section_reader(r, RULES)
    return complete(
        PoolSettings,
        real_replicas=read("realReplicas"),
        backup_enabled=read("backupEnabled"),
        backup_replicas=read("backupReplicas"),
        stop_grace_period=read("stopGracePeriod"),
        endpoint_mode=read("endpointMode"),
        converge_timeout=read("convergeTimeout"),
        spread_over=read("spreadOver"),
    )
