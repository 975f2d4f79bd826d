"""Renders default.conf.j2 (beside this file) from validated values.

All decisions (which names to resolve, which timings) are made here in Python;
the template only places values, so it stays readable as nginx config.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import jinja2

from swarm.naming import BACKUP, REAL, pool_alias
from swarm.values import Duration

TEMPLATE_DIR = Path(__file__).resolve().parent
TEMPLATE_NAME = "default.conf.j2"

# Docker's embedded DNS server, present in every container on a user network.
DOCKER_DNS = "127.0.0.11"
NGINX_PORT = 80
HEALTH_PATH = "/nginx-health"
UPSTREAM_NAME = "app-server"


@dataclass(frozen=True)
class UpstreamTuning:
    """How nginx picks, retries and drops app tasks: the stack keys that reach the config."""

    max_fails: int
    fail_timeout: Duration
    connect_timeout: Duration
    resolver_valid: Duration
    next_upstream_tries: int
    next_upstream_timeout: Duration


@dataclass(frozen=True)
class UpstreamServer:
    host: str
    port: int


@dataclass(frozen=True)
class NginxConfigArgs:
    """Everything the template needs, already in nginx's syntax."""

    listen_port: int
    resolver: str
    resolver_valid: str
    real: UpstreamServer
    backup: UpstreamServer | None
    max_fails: int
    fail_timeout: str
    connect_timeout: str
    next_upstream_tries: int
    next_upstream_timeout: str
    upstream_name: str = UPSTREAM_NAME
    health_path: str = HEALTH_PATH


def upstream_host(alias: str, endpoint_mode: str) -> str:
    # dnsrr: tasks.ALIAS lists every task, so nginx balances and fails over per
    # task. vip: the alias is one virtual IP and IPVS picks the task.
    return f"tasks.{alias}" if endpoint_mode == "dnsrr" else alias


def nginx_config_args(
    app_name: str, app_port: int, endpoint_mode: str, backup_enabled: bool, upstream: UpstreamTuning
) -> NginxConfigArgs:
    def server(role: str) -> UpstreamServer:
        return UpstreamServer(upstream_host(pool_alias(app_name, role), endpoint_mode), app_port)

    return NginxConfigArgs(
        listen_port=NGINX_PORT,
        resolver=DOCKER_DNS,
        resolver_valid=upstream.resolver_valid.nginx,
        real=server(REAL),
        backup=server(BACKUP) if backup_enabled else None,
        max_fails=upstream.max_fails,
        fail_timeout=upstream.fail_timeout.nginx,
        connect_timeout=upstream.connect_timeout.nginx,
        next_upstream_tries=upstream.next_upstream_tries,
        next_upstream_timeout=upstream.next_upstream_timeout.nginx,
    )


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
    autoescape=False,
)


def render_nginx_config(args: NginxConfigArgs) -> str:
    return _environment.get_template(TEMPLATE_NAME).render(c=args)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
