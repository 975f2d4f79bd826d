"""What the L7 tier passes between clients and the app: request bodies, WebSockets,
streamed answers, HTTP/2, and how long it waits on the app; and how long the
edge waits on the L7 tier, which must be longer still.

nginx's own defaults: 1 MiB request bodies, 60 s between two reads of the
app's answer or two writes of the request, no WebSocket (Upgrade is a
hop-by-hop header, dropped unless set again), answers buffered unless the app
sends ``X-Accel-Buffering: no``, and HTTP/1.1 only over TLS.
"""

from __future__ import annotations

from dataclasses import dataclass

from swarm_zero_downtime.swarm.values import GIB, HOUR, SECOND, ByteSize, Duration

# The largest request body a stack may allow: the L7 tier reads every body
# whole (to a temporary file past 16 KiB) before the app gets it.
LARGEST_BODY = ByteSize(100 * GIB)
# The longest nginxReadTimeout, nginxSendTimeout and websocketIdleTimeout may be.
LONGEST_APP_WAIT = Duration(HOUR)
# The longest nginxNextUpstreamTimeout and nginxConnectTimeout may be (nginx:
# proxy_connect_timeout "usually cannot exceed 75 seconds").
LONGEST_RETRY_WINDOW = Duration(HOUR)
LONGEST_CONNECT = Duration(75 * SECOND)
# How long the edge waits for a byte from an L7 task, either way, and how
# long its TLS stream keeps a connection silent on both sides: longer than an
# L7 task can be set to stay silent (trying tasks for the whole retry window,
# a last connect, then the app's longest wait), so the tier always answers
# (504) or closes first, whatever the stack sets, and these keys never restart
# the edge. A task that is gone is found out within seconds by keep-alive
# probes (docs/edge-and-l7-tier.md), not by this bound.
EDGE_WAIT = LONGEST_RETRY_WINDOW + LONGEST_CONNECT + LONGEST_APP_WAIT + Duration(5 * SECOND)
# What an Upgrade request (a WebSocket handshake) is sent on to its own
# location with: any status nginx never answers with itself.
UPGRADE_STATUS = 418


@dataclass(frozen=True)
class AppProtocols:
    """The stack keys: requestBodyMaxSize, nginxReadTimeout, nginxSendTimeout,
    websocketIdleTimeout, responseBuffering and http2."""

    request_body_max_size: ByteSize
    """0: no limit."""
    read_timeout: Duration
    send_timeout: Duration
    websocket_idle_timeout: Duration
    response_buffering: bool
    http2: bool


@dataclass(frozen=True)
class ProxyProtocols:
    """The same for the L7 tier's template, in nginx's syntax."""

    body_max_size: str
    read_timeout: str
    send_timeout: str
    websocket_idle_timeout: str
    buffering: str
    """on or off: proxy_buffering (an app's X-Accel-Buffering still decides per answer)."""
    upgrade_status: int = UPGRADE_STATUS


def proxy_protocols(protocols: AppProtocols) -> ProxyProtocols:
    return ProxyProtocols(
        body_max_size=protocols.request_body_max_size.nginx,
        read_timeout=protocols.read_timeout.nginx,
        send_timeout=protocols.send_timeout.nginx,
        websocket_idle_timeout=protocols.websocket_idle_timeout.nginx,
        buffering="on" if protocols.response_buffering else "off",
    )
