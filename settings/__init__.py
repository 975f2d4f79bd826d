"""The stack's settings: every config key read once, validated, made immutable.

Defaults live in ``Pulumi.yaml`` (the CLI merges them into the stack config
before the program runs), so a key missing here is a broken project file, not
a user choice. Each section of keys has its reader (``app``, ``pools``,
``health``, ``rollout``, ``nginx``, ``tls``, ``resources``, ``secrets``, ``release``); all problems are collected and reported
together, one line per key, so a pull request shows everything that is wrong
in one preview.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pulumi

from swarm_zero_downtime.settings import app, health, nginx, pools, release, resources, rollout, secrets, tls
from swarm_zero_downtime.settings.app import AppSettings, read_app
from swarm_zero_downtime.settings.health import read_health
from swarm_zero_downtime.settings.nginx import NginxSettings, check_nginx, read_nginx
from swarm_zero_downtime.settings.overlay import check_overlay
from swarm_zero_downtime.settings.parsers import Rule
from swarm_zero_downtime.settings.pools import PoolSettings, read_pools
from swarm_zero_downtime.settings.project_file import project
from swarm_zero_downtime.settings.reader import ConfigReader, ConfigSource, SettingsError, complete
from swarm_zero_downtime.settings.registry_auth import check_registry_auth
from swarm_zero_downtime.settings.release import ReleaseSettings, read_release
from swarm_zero_downtime.settings.resources import ResourceSettings, read_resources
from swarm_zero_downtime.settings.rollout import check_rollout, read_rollout
from swarm_zero_downtime.settings.secrets import check_secrets
from swarm_zero_downtime.settings.tls import TlsSettings, check_tls, read_tls
from swarm_zero_downtime.swarm.values import HealthCheck, RolloutPolicy

__all__ = [
    "RULES",
    "AppSettings",
    "NginxSettings",
    "PoolSettings",
    "ReleaseSettings",
    "ResourceSettings",
    "SettingsError",
    "StackSettings",
    "TlsSettings",
    "load_settings",
    "load_settings_under",
    "project_defaults",
]


# Every key's rule, by key: what the table in docs/configuration.md says each key accepts.
RULES: dict[str, Rule[object]] = {
    **app.RULES,
    **pools.RULES,
    **health.RULES,
    **rollout.RULES,
    **nginx.RULES,
    **tls.RULES,
    **resources.RULES,
    **secrets.RULES,
    **release.RULES,
}


@dataclass(frozen=True)
class StackSettings:
    app: AppSettings
    pools: PoolSettings
    health: HealthCheck
    update: RolloutPolicy
    rollback: RolloutPolicy
    nginx: NginxSettings
    tls: TlsSettings
    resources: ResourceSettings
    release: ReleaseSettings


def load_settings(config: ConfigSource | None = None, provider: ConfigSource | None = None) -> StackSettings:
    """Read and validate every key, and the docker provider's (``provider``) that the program
    relies on; raise SettingsError listing all problems."""
    r = ConfigReader(config or pulumi.Config())
    settings = complete(
        StackSettings,
        app=read_app(r),
        pools=read_pools(r),
        health=read_health(r),
        update=read_rollout(r, "update"),
        rollback=read_rollout(r, "rollback"),
        nginx=read_nginx(r),
        tls=read_tls(r),
        resources=read_resources(r),
        release=read_release(r),
    )
    check_rollout(r, "update")
    check_rollout(r, "rollback")
    check_nginx(r)
    check_overlay(r)
    check_tls(r)
    check_registry_auth(r, provider or pulumi.Config("docker"))
    check_secrets(r)
    # A section that did not parse noted its problems; settings is None only then.
    if settings is None or r.problems:
        raise SettingsError(r.problems)
    return settings


class _ProjectDefaults:
    """Pulumi.yaml's defaults, read as a stack that sets nothing."""

    def __init__(self) -> None:
        self.project, self.values = project()

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def full_key(self, key: str) -> str:
        return f"{self.project}:{key}"


@functools.cache
def project_defaults() -> StackSettings:
    """The settings of a stack that sets no key: what every key defaults to, parsed by its rule."""
    return load_settings(_ProjectDefaults())


class _UnderNamespace:
    """Another project's config under ``namespace:``, where its Pulumi.yaml declares none of
    these keys: the CLI merges no default, so a key it does not set takes Pulumi.yaml's here."""

    def __init__(self, namespace: str) -> None:
        self.config = pulumi.Config(namespace)
        self.defaults = _ProjectDefaults()

    def get(self, key: str) -> str | None:
        value = self.config.get(key)
        return value if value is not None else self.defaults.get(key)

    def full_key(self, key: str) -> str:
        return self.config.full_key(key)


def load_settings_under(namespace: str) -> StackSettings:
    """``load_settings`` for a program of your own: this project's keys set under ``namespace:``
    in your stack config (`pulumi config set shop:imageTag v3`), checked by the same rules,
    each problem naming your key; a key you do not set takes its default."""
    return load_settings(_UnderNamespace(namespace))
