"""The nginx section: the nginx service and how it fails over between tasks."""

from __future__ import annotations

from dataclasses import dataclass

from nginx.config import UpstreamTuning
from settings.parsers import (
    NGINX_SECOND_UNITS,
    NGINX_UNITS,
    parse_choice,
    parse_duration,
    parse_image_reference,
    parse_int,
    parse_port,
)
from settings.reader import ConfigReader, complete

PUBLISH_MODES = ("ingress", "host")


@dataclass(frozen=True)
class NginxSettings:
    image: str
    replicas: int
    published_port: int
    publish_mode: str
    upstream: UpstreamTuning


def read_nginx(r: ConfigReader) -> NginxSettings | None:
    return complete(
        NginxSettings,
        image=r.read("nginxImage", parse_image_reference),
        replicas=r.read("nginxReplicas", parse_int, 1),
        published_port=r.read("publishedPort", parse_port),
        publish_mode=r.read("publishMode", parse_choice, PUBLISH_MODES),
        upstream=complete(
            UpstreamTuning,
            max_fails=r.read("nginxMaxFails", parse_int, 1, 100),
            fail_timeout=r.read("nginxFailTimeout", parse_duration, NGINX_SECOND_UNITS, positive=True),
            connect_timeout=r.read("nginxConnectTimeout", parse_duration, NGINX_UNITS, positive=True),
            resolver_valid=r.read("nginxResolverValid", parse_duration, NGINX_SECOND_UNITS, positive=True),
            next_upstream_tries=r.read("nginxNextUpstreamTries", parse_int, 1, 100),
            next_upstream_timeout=r.read("nginxNextUpstreamTimeout", parse_duration, NGINX_UNITS, positive=True),
        ),
    )


def check_nginx(r: ConfigReader) -> None:
    """nginx must be able to reach the backup pool when every real peer fails at once."""
    if not r.all_parsed("nginxNextUpstreamTries", "backupEnabled", "realReplicas", "endpointMode"):
        return
    if not r.parsed["backupEnabled"]:
        return
    tries = r.parsed["nginxNextUpstreamTries"]
    # With dnsrr nginx sees every real task as a peer; with vip, one address.
    real_peers = r.parsed["realReplicas"] if r.parsed["endpointMode"] == "dnsrr" else 1
    r.require(
        tries > real_peers,
        "nginxNextUpstreamTries",
        f"{tries} cannot reach the backup pool when all {real_peers} real peer(s) fail at once;"
        f" must be at least {real_peers + 1} (real peers + 1; with endpointMode dnsrr every real task is a peer)",
    )
