"""The nginx section: the edge, the L7 tier, and how the tier fails over between app tasks."""

from __future__ import annotations

from dataclasses import dataclass

from swarm_zero_downtime.nginx.client_limits import ClientLimits
from swarm_zero_downtime.nginx.edge import MIN_SHUTDOWN, shortest_grace
from swarm_zero_downtime.nginx.edge_drain import LONGEST_DRAIN
from swarm_zero_downtime.nginx.l7_tier import MIN_REPLICAS, UpstreamTuning
from swarm_zero_downtime.nginx.protocols import (
    LARGEST_BODY,
    LONGEST_APP_WAIT,
    LONGEST_CONNECT,
    LONGEST_RETRY_WINDOW,
    AppProtocols,
)
from swarm_zero_downtime.settings.parsers import (
    IMAGE_REFERENCE,
    NGINX_SECOND_UNITS,
    NGINX_UNITS,
    PORT,
    PRIVATE_SUBNET,
    Boolean,
    Choice,
    DurationRule,
    Integer,
    Rule,
    SizeRule,
)
from swarm_zero_downtime.settings.reader import ConfigReader, complete, section_reader
from swarm_zero_downtime.swarm.values import HOUR, MILLISECOND, MINUTE, SECOND, Duration

RULES: dict[str, Rule[object]] = {
    "nginxImage": IMAGE_REFERENCE,
    "nginxReplicas": Integer(MIN_REPLICAS, 100),
    "edgeImage": IMAGE_REFERENCE,
    # Whole seconds: the edge's shell sleeps them.
    "edgeDrain": DurationRule(0, LONGEST_DRAIN.nanos, ("s", "m")),
    "overlaySubnet": PRIVATE_SUBNET,
    "edgeSubnet": PRIVATE_SUBNET,
    "publishedPort": PORT,
    "publishMode": Choice(("ingress", "host")),
    "nginxMaxFails": Integer(1, 100),
    "nginxFailTimeout": DurationRule(SECOND, HOUR, NGINX_SECOND_UNITS),
    # nginx: proxy_connect_timeout "usually cannot exceed 75 seconds".
    "nginxConnectTimeout": DurationRule(MILLISECOND, LONGEST_CONNECT.nanos, NGINX_UNITS),
    "nginxResolverValid": DurationRule(SECOND, HOUR, NGINX_SECOND_UNITS),
    "nginxNextUpstreamTries": Integer(1, 100),
    "nginxNextUpstreamTimeout": DurationRule(MILLISECOND, LONGEST_RETRY_WINDOW.nanos, NGINX_UNITS),
    # Under a second a busy client on a slow link is cut off; over ten minutes
    # nothing slow is bounded any more.
    "clientTimeout": DurationRule(SECOND, 10 * MINUTE, NGINX_UNITS),
    # 0: no limit; nginx takes at most 65535.
    "clientConnectionsPerAddress": Integer(0, 65535),
    # 0: no limit, as nginx reads client_max_body_size 0.
    "requestBodyMaxSize": SizeRule(0, LARGEST_BODY.bytes),
    # The edge outwaits the longest of these (nginx/protocols.py, EDGE_WAIT).
    "nginxReadTimeout": DurationRule(SECOND, LONGEST_APP_WAIT.nanos, NGINX_UNITS),
    "nginxSendTimeout": DurationRule(SECOND, LONGEST_APP_WAIT.nanos, NGINX_UNITS),
    "websocketIdleTimeout": DurationRule(SECOND, LONGEST_APP_WAIT.nanos, NGINX_UNITS),
    "responseBuffering": Boolean(),
    "http2": Boolean(),
}


@dataclass(frozen=True)
class NginxSettings:
    image: str
    replicas: int
    edge_image: str
    edge_drain: Duration
    """How long a stopping edge fails the public health check and serves on; 0: it stops at once."""
    overlay_subnet: str
    """The app network's: the L7 tier and both pools."""
    edge_subnet: str
    """The edge network's: the edge and the L7 tier, which trusts client addresses from it alone."""
    published_port: int
    publish_mode: str
    upstream: UpstreamTuning
    clients: ClientLimits
    protocols: AppProtocols


def read_nginx(r: ConfigReader) -> NginxSettings | None:
    read = section_reader(r, RULES)
    return complete(
        NginxSettings,
        image=read("nginxImage"),
        replicas=read("nginxReplicas"),
        edge_image=read("edgeImage"),
        edge_drain=read("edgeDrain"),
        overlay_subnet=read("overlaySubnet"),
        edge_subnet=read("edgeSubnet"),
        published_port=read("publishedPort"),
        publish_mode=read("publishMode"),
        upstream=complete(
            UpstreamTuning,
            max_fails=read("nginxMaxFails"),
            fail_timeout=read("nginxFailTimeout"),
            connect_timeout=read("nginxConnectTimeout"),
            resolver_valid=read("nginxResolverValid"),
            next_upstream_tries=read("nginxNextUpstreamTries"),
            next_upstream_timeout=read("nginxNextUpstreamTimeout"),
        ),
        clients=complete(
            ClientLimits,
            timeout=read("clientTimeout"),
            connections_per_address=read("clientConnectionsPerAddress"),
        ),
        protocols=complete(
            AppProtocols,
            request_body_max_size=read("requestBodyMaxSize"),
            read_timeout=read("nginxReadTimeout"),
            send_timeout=read("nginxSendTimeout"),
            websocket_idle_timeout=read("websocketIdleTimeout"),
            response_buffering=read("responseBuffering"),
            http2=read("http2"),
        ),
    )


def check_nginx(r: ConfigReader) -> None:
    check_backup_reachable(r)
    check_drain_fits(r)
    for key in ("nginxReadTimeout", "nginxSendTimeout"):
        check_timeout_not_retried(r, key)


def check_timeout_not_retried(r: ConfigReader, key: str) -> None:
    """A request that times out waiting on the app is not sent on to another task.

    nginx sends it on (proxy_next_upstream timeout) while the retry window is
    open, and counts each timeout against the task (nginxMaxFails): one slow
    request would take every task out of rotation in turn.
    """
    if not r.all_parsed(key, "nginxNextUpstreamTimeout"):
        return
    timeout: Duration = r.parsed[key]
    window: Duration = r.parsed["nginxNextUpstreamTimeout"]
    r.require(
        timeout >= window,
        key,
        f"{timeout.text} is shorter than nginxNextUpstreamTimeout ({window.text}): a request that times out"
        f" waiting on the app would be sent on to another task, and each timeout takes one out of rotation;"
        f" must be at least {window.text} (or lower nginxNextUpstreamTimeout)",
    )


def check_backup_reachable(r: ConfigReader) -> None:
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


def check_drain_fits(r: ConfigReader) -> None:
    """A draining edge is one a load balancer checks on its node, and it stops within stopGracePeriod."""
    if not r.all_parsed("edgeDrain", "stopGracePeriod", "publishMode") or not r.parsed["edgeDrain"].nanos:
        return
    drain: Duration = r.parsed["edgeDrain"]
    grace: Duration = r.parsed["stopGracePeriod"]
    needed = drain + MIN_SHUTDOWN
    # Swarm takes a stopping task out of the routing mesh before it signals it:
    # no probe through the mesh ever sees its 503, a drain would only delay.
    host = r.parsed["publishMode"] == "host"
    r.require(
        host,
        "edgeDrain",
        f"{drain.text} needs publishMode host (a load balancer that checks each node's edge); with ingress"
        " the routing mesh stops sending to a stopping edge by itself: set 0s",
    )
    if not host:
        return
    # Swarm kills the edge stopGracePeriod after its stop signal.
    r.require(
        grace >= needed,
        "edgeDrain",
        f"{drain.text} and the edge's {MIN_SHUTDOWN.text} to close its connections do not fit in stopGracePeriod"
        f" ({grace.text}): Swarm would kill the edge mid-drain; stopGracePeriod must be at least {needed.text}"
        f" (at least {shortest_grace(drain).text} to leave it time before pulumi-docker's delete deadline),"
        f" or edgeDrain at most {Duration(max(grace.nanos - MIN_SHUTDOWN.nanos, 0)).text}",
    )
