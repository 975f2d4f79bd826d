"""The edge's config (edge.conf.j2): the nginx that owns the published ports.

Its values are constants, the L7 tier's name and the two keys that bound slow
clients (nginx/client_limits.py), never a failover tuning key or a wait on the
app (it outwaits any the L7 tier may be set to, nginx/protocols.py), so no
ordinary change of the stack restarts it (with host publishing, a restart of the edge
is the one thing that still drops connections).
"""

from __future__ import annotations

from dataclasses import dataclass

from swarm_zero_downtime.nginx.client_limits import (
    LIMIT_STATUS,
    LIMIT_ZONE_SIZE,
    ClientLimits,
    ClientTimeouts,
    client_timeouts,
    per_address_limit,
)
from swarm_zero_downtime.nginx.edge_drain import MARKER as DRAIN_MARKER
from swarm_zero_downtime.nginx.l7_tier import (
    DOCKER_DNS,
    HEADER_BUFFER_KIB,
    HEALTH_PATH,
    HEALTH_PORT,
    HTTP_PORT,
    HTTPS_PORT,
    ProxyBuffers,
    upstream_host,
)
from swarm_zero_downtime.nginx.protocols import EDGE_WAIT
from swarm_zero_downtime.nginx.render import render
from swarm_zero_downtime.nginx.upstream_reuse import EDGE_TO_L7_IDLE
from swarm_zero_downtime.swarm.values import MILLISECOND, SECOND, Duration

TEMPLATE_NAME = "edge.conf.j2"
UPSTREAM_NAME = "l7-tier"
# L7 tasks sit on the same overlay network: a connect that takes longer is to
# a task that is gone, and the next one is tried.
CONNECT_TIMEOUT = Duration(500 * MILLISECOND)
# The L7 tier passes on answer headers that fit its buffer, plus a few of its
# own (Server, Date, Connection): with room for them, no answer of an L7 task
# is "too big", which would count as that task failing here too (max_fails=1).
HEADER_BUFFER = ProxyBuffers(HEADER_BUFFER_KIB + 8)
# How long the edge keeps trying L7 tasks for one request, at most.
NEXT_UPSTREAM_TIMEOUT = Duration(10 * SECOND)
# Matches the L7 tier's default (nginxResolverValid) without depending on it.
RESOLVER_VALID = Duration(SECOND)
# pulumi-docker deletes a service and then waits at most its stop_grace_period
# for each container to be removed, failing the run on that deadline
# (kreuzwerker resource_docker_service_funcs.go deleteService). nginx's graceful
# shutdown waits for every open connection, a passed-through TLS stream for as
# long as its client keeps it, so nginx is told to close what is left in time.
# Measured for the edge on this project's test swarm (Docker 20.10, a TLS
# stream held open): it exited 5.4 s after the delete with a 2 s
# worker_shutdown_timeout, so its stop signal came about 3.4 s after the delete
# (Swarm's 2 s gossip delay, moby daemon/cluster/executor/container
# controller.go, and the endpoint's removal), and it was removed 2.5 s after it
# exited. Each bound below has about a second to spare.
STOP_SIGNAL_DELAY = Duration(4 * SECOND)
REMOVAL_MARGIN = Duration(4 * SECOND)
MIN_SHUTDOWN = Duration(SECOND)


@dataclass(frozen=True)
class EdgeConfigArgs:
    http_port: int
    https_port: int | None
    """None: no TLS, and no stream module is loaded."""
    l7_host: str
    l7_http_port: int
    l7_https_port: int
    health_port: int
    resolver: str
    resolver_valid: str
    connect_timeout: str
    next_upstream_timeout: str
    shutdown_timeout: str
    """worker_shutdown_timeout: open connections are closed then, so the edge is gone before pulumi-docker's deadline."""
    clients: ClientTimeouts
    connections_per_address: int | None
    """limit_conn per client address, HTTP and TLS each; None: no limit."""
    upstream_timeout: str
    """proxy_read_timeout and proxy_send_timeout to an L7 task, and proxy_timeout of
    the TLS stream: longer than any wait the L7 tier allows, for any stack (clientTimeout
    is at most 10 minutes)."""
    limit_status: int = LIMIT_STATUS
    limit_zone_size: str = LIMIT_ZONE_SIZE
    upstream_name: str = UPSTREAM_NAME
    health_path: str = HEALTH_PATH
    buffers: ProxyBuffers = HEADER_BUFFER
    upstream_idle: str = EDGE_TO_L7_IDLE.nginx
    drain_marker: str | None = None
    """The file whose presence turns the public health answer to 503 (nginx/edge_drain.py); None: no drain."""


def _besides_closing(drain: Duration) -> Duration:
    """What a deleted edge spends on anything but closing connections: its stop signal's delay, ``drain``
    (edgeDrain: spent before nginx is stopped) and its removal."""
    return STOP_SIGNAL_DELAY + drain + REMOVAL_MARGIN


def shutdown_timeout(stop_grace_period: Duration, drain: Duration) -> Duration:
    """How long the edge's nginx may close connections once stopped, after ``drain``, to be removed
    within ``stop_grace_period`` of its delete."""
    return max(Duration(stop_grace_period.nanos - _besides_closing(drain).nanos), MIN_SHUTDOWN)


def shortest_grace(drain: Duration) -> Duration:
    """The shortest stopGracePeriod that leaves MIN_SHUTDOWN before pulumi-docker's deadline, after ``drain``."""
    return _besides_closing(drain) + MIN_SHUTDOWN


def edge_config_args(
    l7_alias: str,
    tls: bool,
    stop_grace_period: Duration,
    clients: ClientLimits,
    publish_mode: str,
    drain: Duration,
) -> EdgeConfigArgs:
    return EdgeConfigArgs(
        http_port=HTTP_PORT,
        https_port=HTTPS_PORT if tls else None,
        # Every L7 task by name (dnsrr), so a dead or draining one is skipped.
        l7_host=upstream_host(l7_alias, "dnsrr"),
        l7_http_port=HTTP_PORT,
        l7_https_port=HTTPS_PORT,
        health_port=HEALTH_PORT,
        resolver=DOCKER_DNS,
        resolver_valid=RESOLVER_VALID.nginx,
        connect_timeout=CONNECT_TIMEOUT.nginx,
        next_upstream_timeout=NEXT_UPSTREAM_TIMEOUT.nginx,
        shutdown_timeout=shutdown_timeout(stop_grace_period, drain).nginx,
        clients=client_timeouts(clients.timeout),
        connections_per_address=per_address_limit(clients, publish_mode),
        upstream_timeout=EDGE_WAIT.nginx,
        drain_marker=DRAIN_MARKER if drain.nanos else None,
    )


def render_edge_config(args: EdgeConfigArgs) -> str:
    return render(TEMPLATE_NAME, args)
