"""The L7 tier's config (l7_tier.conf.j2) from validated values.

All decisions (which names to resolve, which timings, which hosts) are made
here in Python; the template only places values, so it stays readable as nginx
config.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from swarm_zero_downtime.nginx.client_limits import (
    ClientLimits,
    ClientTimeouts,
    behind_edge_timeouts,
    client_timeouts,
)
from swarm_zero_downtime.nginx.edge_drain import NO_DRAIN, tls_connection_lifetime
from swarm_zero_downtime.nginx.protocols import AppProtocols, ProxyProtocols, proxy_protocols
from swarm_zero_downtime.nginx.render import render
from swarm_zero_downtime.nginx.upstream_reuse import L7_TO_APP_IDLE
from swarm_zero_downtime.swarm.naming import BACKUP, REAL, pool_alias
from swarm_zero_downtime.swarm.values import SECOND, Duration

TEMPLATE_NAME = "l7_tier.conf.j2"

# Docker's embedded DNS server, present in every container on a user network.
DOCKER_DNS = "127.0.0.11"
# Container ports of both nginx tiers; only the edge's are published.
HTTP_PORT = 80
HTTPS_PORT = 443
# Each tier's health check listens on loopback only, away from every client.
HEALTH_PORT = 8081
HEALTH_PATH = "/nginx-health"
# The tier's smallest size (nginxReplicas): one L7 task can die or drain while another serves.
MIN_REPLICAS = 2
UPSTREAM_NAME = "app-server"
# The L7 tier's certificate chain and key: one Swarm secret, in Swarm's secrets directory.
TLS_SECRET_FILE = "tls.pem"
TLS_PEM_PATH = f"/run/secrets/{TLS_SECRET_FILE}"
# Names that mean "this machine": with them any Host is served (the dev stack).
LOCAL_HOSTS = ("localhost",)
# nginx's server name hash (ngx_hash_init, 64-bit): a bucket holds each name as
# a pointer, a 2-byte length and the name, padded to a pointer, then a null
# pointer; its size is rounded up to the CPU's cache line (64 bytes here). The
# default bucket (64 bytes) fits names of at most 46 characters.
POINTER_SIZE = 8
CACHE_LINE = 64


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


# An answer's headers must fit proxy_buffer_size. Else nginx answers 502
# ("upstream sent too big header") and counts it as the task failing, whatever
# proxy_next_upstream says: ngx_http_upstream_next marks every failure but a
# 403/404 NGX_PEER_FAILED, and nginx's docs say error, timeout and
# invalid_header always count. nginx's default is one page (4 KiB), which a
# redirect copying a long ?next= already overflows; 32 KiB holds four times the
# longest request line a client gets through the edge (8 KiB,
# large_client_header_buffers) besides the app's own headers. Allocated whole
# for every proxied request.
HEADER_BUFFER_KIB = 32


@dataclass(frozen=True)
class ProxyBuffers:
    """proxy_buffer_size, and the proxy_buffers nginx then requires."""

    header_kib: int

    @property
    def header(self) -> str:
        return f"{self.header_kib}k"

    @property
    def body(self) -> str:
        # proxy_busy_buffers_size (set to the header buffer's size) must be at
        # least the header buffer and less than all proxy_buffers but one.
        return f"{self.header_kib // 4 + 2} 4k"


# TLS 1.2 and 1.3 only. For 1.2, Mozilla's "intermediate" ciphers (forward
# secrecy, AEAD only); OpenSSL's 1.3 suites need no list.
TLS_PROTOCOLS = "TLSv1.2 TLSv1.3"
TLS12_CIPHERS = ":".join(
    [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        "ECDHE-RSA-CHACHA20-POLY1305",
    ]
)
# Browsers keep to HTTPS for a year once they have seen it; subdomains are left alone.
HSTS_MAX_AGE = 365 * 24 * 3600
# How long a draining L7 task still takes one more request on a keep-alive
# connection it has just answered on, a TLS client's or the edge's (nginx
# 1.27.4+, commit 22a2a225b).
# Short: a draining worker waits this long for such connections before exiting.
KEEPALIVE_MIN_TIMEOUT = "1s"
# The method the task's TLS health check asks with (nginx/l7_health.py): nginx
# answers it itself, and the check's requests stay out of the access log.
TLS_PROBE_METHOD = "TRACE"
TLS_PROBE_SOURCE = "127.0.0.1"
# The access log is buffered (nginx/l7_tier.conf.j2 says why): a worker writes
# a line this long after it at most, and at once when it reopens its logs or exits.
ACCESS_LOG_FLUSH = Duration(SECOND)
ACCESS_LOG_BUFFER = "64k"


@dataclass(frozen=True)
class TlsListener:
    listen_port: int
    pem_path: str
    redirect_port_suffix: str
    """":8443" when the published HTTPS port is not 443, else ""."""
    clients: ClientTimeouts
    """The TLS client's own: the edge passes TLS through and bounds only silence on both sides."""
    connection_lifetime: str | None
    """keepalive_time with a draining edge (nginx/edge_drain.py); None: nginx's default, an hour."""
    http2: bool
    """Offered by ALPN; a client that asks for HTTP/1.1 still gets it."""
    protocols: str = TLS_PROTOCOLS
    ciphers: str = TLS12_CIPHERS
    hsts_max_age: int = HSTS_MAX_AGE
    probe_method: str = TLS_PROBE_METHOD
    probe_source: str = TLS_PROBE_SOURCE


@dataclass(frozen=True)
class L7TierConfigArgs:
    """Everything the template needs, already in nginx's syntax."""

    listen_port: int
    health_port: int
    trusted_proxies: str
    """The edge network's subnet: the only addresses whose X-Real-IP or PROXY header is believed."""
    server_name: str | None
    """None: every Host is served; a name: only it, other hosts get 421."""
    server_names_hash_bucket_size: int | None
    """Bytes for the served name in nginx's hash; None without a name."""
    tls: TlsListener | None
    resolver: str
    resolver_valid: str
    real: UpstreamServer
    backup: UpstreamServer | None
    max_fails: int
    fail_timeout: str
    connect_timeout: str
    next_upstream_tries: int
    next_upstream_timeout: str
    clients: ClientTimeouts
    """For plain HTTP, which only the edge sends: longer than the edge's own, so it gives up first."""
    proxy: ProxyProtocols
    upstream_name: str = UPSTREAM_NAME
    health_path: str = HEALTH_PATH
    buffers: ProxyBuffers = ProxyBuffers(HEADER_BUFFER_KIB)
    upstream_idle: str = L7_TO_APP_IDLE.nginx
    keepalive_min_timeout: str = KEEPALIVE_MIN_TIMEOUT
    access_log_buffer: str = ACCESS_LOG_BUFFER
    access_log_flush: str = ACCESS_LOG_FLUSH.nginx


def upstream_host(alias: str, endpoint_mode: str) -> str:
    # dnsrr: tasks.ALIAS lists every task, so nginx balances and fails over per
    # task. vip: the alias is one virtual IP and IPVS picks the task.
    return f"tasks.{alias}" if endpoint_mode == "dnsrr" else alias


def served_name(public_host: str) -> str | None:
    """The one host name to serve, or None when publicHost is this machine or an address."""
    if public_host.lower() in LOCAL_HOSTS:
        return None
    try:
        ipaddress.ip_address(public_host)
    except ValueError:
        return public_host.lower()
    return None


def names_hash_bucket_size(name: str) -> int:
    """The smallest server_names_hash_bucket_size with room for ``name``."""
    entry = -(-(POINTER_SIZE + 2 + len(name)) // POINTER_SIZE) * POINTER_SIZE
    return -(-(entry + POINTER_SIZE) // CACHE_LINE) * CACHE_LINE


def tls_listener(published_https_port: int, clients: ClientLimits, http2: bool, edge_drain: Duration) -> TlsListener:
    return TlsListener(
        listen_port=HTTPS_PORT,
        pem_path=TLS_PEM_PATH,
        redirect_port_suffix="" if published_https_port == 443 else f":{published_https_port}",
        clients=client_timeouts(clients.timeout),
        connection_lifetime=None if (lifetime := tls_connection_lifetime(edge_drain)) is None else lifetime.nginx,
        http2=http2,
    )


@dataclass(frozen=True)
class NginxSite:
    """Who the L7 tier serves: the stack's host, trusted proxies, TLS."""

    public_host: str
    trusted_proxies: str
    published_https_port: int | None
    """None: no TLS."""
    edge_drain: Duration = NO_DRAIN
    """edgeDrain: with TLS, each TLS connection is reused for half of it at most."""


def l7_tier_config_args(
    app_name: str,
    app_port: int,
    endpoint_mode: str,
    backup_enabled: bool,
    upstream: UpstreamTuning,
    site: NginxSite,
    clients: ClientLimits,
    protocols: AppProtocols,
) -> L7TierConfigArgs:
    def server(role: str) -> UpstreamServer:
        return UpstreamServer(upstream_host(pool_alias(app_name, role), endpoint_mode), app_port)

    server_name = served_name(site.public_host)
    return L7TierConfigArgs(
        listen_port=HTTP_PORT,
        health_port=HEALTH_PORT,
        trusted_proxies=site.trusted_proxies,
        server_name=server_name,
        server_names_hash_bucket_size=None if server_name is None else names_hash_bucket_size(server_name),
        tls=(
            None
            if site.published_https_port is None
            else tls_listener(site.published_https_port, clients, protocols.http2, site.edge_drain)
        ),
        resolver=DOCKER_DNS,
        resolver_valid=upstream.resolver_valid.nginx,
        real=server(REAL),
        backup=server(BACKUP) if backup_enabled else None,
        max_fails=upstream.max_fails,
        fail_timeout=upstream.fail_timeout.nginx,
        connect_timeout=upstream.connect_timeout.nginx,
        next_upstream_tries=upstream.next_upstream_tries,
        next_upstream_timeout=upstream.next_upstream_timeout.nginx,
        clients=behind_edge_timeouts(clients),
        proxy=proxy_protocols(protocols),
    )


def render_l7_tier_config(args: L7TierConfigArgs) -> str:
    return render(TEMPLATE_NAME, args)
