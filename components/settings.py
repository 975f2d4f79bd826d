"""The stack's settings: every config key read once, validated, made immutable.

Defaults live in ``Pulumi.yaml`` (the CLI merges them into the stack config
before the program runs), so a key missing here is a broken project file, not
a user choice. All problems are collected and reported together, one line per
key, so a pull request shows everything that is wrong in one preview.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

import pulumi

from components.validation import (
    NGINX_SECOND_UNITS,
    NGINX_UNITS,
    Duration,
    InvalidValue,
    parse_bool,
    parse_choice,
    parse_dns_label,
    parse_hostname,
    parse_duration,
    parse_image_reference,
    parse_int,
    parse_port,
    parse_repository,
    parse_tag,
    parse_url_path,
)

PROJECT = "swarm-zero-downtime"

UPDATE_ORDERS = ("start-first", "stop-first")
UPDATE_FAILURE_ACTIONS = ("rollback", "pause", "continue")
ROLLBACK_FAILURE_ACTIONS = ("pause", "continue")
ENDPOINT_MODES = ("dnsrr", "vip")
PUBLISH_MODES = ("ingress", "host")


class SettingsError(pulumi.RunError):
    """Invalid stack config; RunError makes Pulumi print it without a traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            f"{len(problems)} invalid stack config value(s):\n" + "\n".join(f"  - {p}" for p in problems)
        )


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


@dataclass(frozen=True)
class NginxSettings:
    image: str
    replicas: int
    published_port: int
    publish_mode: str
    max_fails: int
    fail_timeout: Duration
    connect_timeout: Duration
    resolver_valid: Duration
    next_upstream_tries: int
    next_upstream_timeout: Duration


@dataclass(frozen=True)
class StackSettings:
    app_name: str
    app_image: str
    image_tag: str
    app_port: int
    public_host: str
    real_replicas: int
    backup_enabled: bool
    backup_replicas: int
    health: HealthCheck
    update: RolloutPolicy
    rollback: RolloutPolicy
    stop_grace_period: Duration
    endpoint_mode: str
    converge_timeout: Duration
    nginx: NginxSettings

    @property
    def image(self) -> str:
        return f"{self.app_image}:{self.image_tag}"


T = TypeVar("T")


class _ConfigReader:
    """Reads keys, remembering every problem instead of stopping at the first."""

    def __init__(self, config: pulumi.Config):
        self._config = config
        self.problems: list[str] = []

    def read(self, key: str, parse: Callable[..., T], *args, **kwargs) -> Optional[T]:
        raw = self._config.get(key)
        if raw is None:
            self.problems.append(
                f"{self._config.full_key(key)}: missing (declare it with a default in Pulumi.yaml"
                f" or run `pulumi config set {key} VALUE`)"
            )
            return None
        try:
            return parse(raw, *args, **kwargs)
        except InvalidValue as error:
            self.problems.append(f"{self._config.full_key(key)}: {raw!r} {error}")
            return None

    def require(self, ok: bool, key: str, message: str) -> None:
        if not ok:
            self.problems.append(f"{self._config.full_key(key)}: {message}")


def _read_rollout(r: _ConfigReader, prefix: str, failure_actions: tuple[str, ...]) -> RolloutPolicy:
    return RolloutPolicy(
        parallelism=r.read(f"{prefix}Parallelism", parse_int, 1),
        delay=r.read(f"{prefix}Delay", parse_duration),
        order=r.read(f"{prefix}Order", parse_choice, UPDATE_ORDERS),
        monitor=r.read(f"{prefix}Monitor", parse_duration, positive=True),
        failure_action=r.read(f"{prefix}FailureAction", parse_choice, failure_actions),
    )


def _read_nginx(r: _ConfigReader) -> NginxSettings:
    return NginxSettings(
        image=r.read("nginxImage", parse_image_reference),
        replicas=r.read("nginxReplicas", parse_int, 1),
        published_port=r.read("publishedPort", parse_port),
        publish_mode=r.read("publishMode", parse_choice, PUBLISH_MODES),
        max_fails=r.read("nginxMaxFails", parse_int, 1, 100),
        fail_timeout=r.read("nginxFailTimeout", parse_duration, NGINX_SECOND_UNITS, positive=True),
        connect_timeout=r.read("nginxConnectTimeout", parse_duration, NGINX_UNITS, positive=True),
        resolver_valid=r.read("nginxResolverValid", parse_duration, NGINX_SECOND_UNITS, positive=True),
        next_upstream_tries=r.read("nginxNextUpstreamTries", parse_int, 1, 100),
        next_upstream_timeout=r.read("nginxNextUpstreamTimeout", parse_duration, NGINX_UNITS, positive=True),
    )


def _check_consistency(r: _ConfigReader, s: StackSettings) -> None:
    """Rules that span keys; each runs only when its keys parsed."""
    for prefix, policy in (("update", s.update), ("rollback", s.rollback)):
        if policy.parallelism is not None and s.real_replicas is not None:
            r.require(
                policy.parallelism <= s.real_replicas,
                f"{prefix}Parallelism",
                f"{policy.parallelism} is above realReplicas ({s.real_replicas}); must be between 1 and {s.real_replicas}",
            )
        if policy.monitor is not None and None not in (
            s.health.start_period,
            s.health.interval,
            s.health.timeout,
            s.health.retries,
        ):
            needed = s.health.seconds_to_unhealthy
            r.require(
                policy.monitor.seconds >= needed,
                f"{prefix}Monitor",
                f"{policy.monitor.text!r} is shorter than healthCheckStartPeriod + (healthCheckInterval +"
                f" healthCheckTimeout) x healthCheckRetries ({needed:g}s): Swarm would call a rollout done"
                f" before a bad task is known to be unhealthy; must be at least {needed:g}s",
            )
    tries = s.nginx.next_upstream_tries
    if s.backup_enabled and None not in (tries, s.real_replicas, s.endpoint_mode):
        # With dnsrr nginx sees every real task as a peer; with vip, one address.
        real_peers = s.real_replicas if s.endpoint_mode == "dnsrr" else 1
        r.require(
            tries > real_peers,
            "nginxNextUpstreamTries",
            f"{tries} cannot reach the backup pool when all {real_peers} real peer(s) fail at once;"
            f" must be at least {real_peers + 1} (real peers + 1; with endpointMode dnsrr every real task is a peer)",
        )


def load_settings(config: Optional[pulumi.Config] = None) -> StackSettings:
    """Read and validate every key; raise SettingsError listing all problems."""
    r = _ConfigReader(config or pulumi.Config())
    settings = StackSettings(
        # "-backup" is the longest suffix; keeps the alias within a DNS label.
        app_name=r.read("appName", parse_dns_label, 40),
        app_image=r.read("appImage", parse_repository),
        image_tag=r.read("imageTag", parse_tag),
        app_port=r.read("appPort", parse_port),
        public_host=r.read("publicHost", parse_hostname),
        real_replicas=r.read("realReplicas", parse_int, 1),
        backup_enabled=r.read("backupEnabled", parse_bool),
        backup_replicas=r.read("backupReplicas", parse_int, 1),
        health=HealthCheck(
            path=r.read("healthCheckPath", parse_url_path),
            interval=r.read("healthCheckInterval", parse_duration, positive=True),
            timeout=r.read("healthCheckTimeout", parse_duration, positive=True),
            retries=r.read("healthCheckRetries", parse_int, 1, 100),
            start_period=r.read("healthCheckStartPeriod", parse_duration),
        ),
        update=_read_rollout(r, "update", UPDATE_FAILURE_ACTIONS),
        rollback=_read_rollout(r, "rollback", ROLLBACK_FAILURE_ACTIONS),
        stop_grace_period=r.read("stopGracePeriod", parse_duration),
        endpoint_mode=r.read("endpointMode", parse_choice, ENDPOINT_MODES),
        converge_timeout=r.read("convergeTimeout", parse_duration, positive=True),
        nginx=_read_nginx(r),
    )
    _check_consistency(r, settings)
    if r.problems:
        raise SettingsError(r.problems)
    return settings
