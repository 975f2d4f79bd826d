"""How long both tiers wait on a slow client, and how many connections one client address may hold at the edge.

nginx's own defaults bound nothing that matters: 60 s between two reads of a
body or two writes of an answer (per operation, so a client that trickles a
byte a minute is never timed out), 75 s idle on keep-alive, 10 minutes idle on
a passed-through TLS stream, and no limit per client address.
"""

from __future__ import annotations

from dataclasses import dataclass

from swarm_zero_downtime.swarm.values import SECOND, Duration

# Idle time between requests on a client's keep-alive connection. Below the
# images' 65 s and nginx's 75 s: an idle connection holds a slot at the edge,
# and over TLS it counts against its address's limit (the edge cannot see
# inside it).
KEEPALIVE_TIMEOUT = Duration(30 * SECOND)
# The L7 tier waits on the edge this much longer than the edge waits on a
# client, so the edge always gives up on a slow client first: an L7 task that
# gave up first would close mid-request, which the edge counts as that task
# failing (its upstream has nginx's max_fails=1).
BEHIND_EDGE_MARGIN = Duration(2 * SECOND)
# "Too Many Requests": what a plain HTTP request over the limit gets. A TLS
# connection over it is closed at once: the edge cannot answer inside TLS.
LIMIT_STATUS = 429
# Shared memory for the per-address counts: an address takes an entry while it
# has a counted connection, and with the zone full nginx refuses every new one.
# About 16 thousand entries a megabyte on 64-bit (nginx's limit_conn docs): far
# more addresses than the edge has connections (4096 per worker).
LIMIT_ZONE_SIZE = "10m"


@dataclass(frozen=True)
class ClientLimits:
    """The stack keys: clientTimeout and clientConnectionsPerAddress."""

    timeout: Duration
    connections_per_address: int
    """0: no limit."""


@dataclass(frozen=True)
class ClientTimeouts:
    """client_header_timeout, client_body_timeout and send_timeout (one value), and keepalive_timeout, for nginx."""

    io: str
    keepalive: str


def client_timeouts(timeout: Duration) -> ClientTimeouts:
    return ClientTimeouts(io=timeout.nginx, keepalive=KEEPALIVE_TIMEOUT.nginx)


def behind_edge_timeouts(limits: ClientLimits) -> ClientTimeouts:
    """The L7 tier's, for the plain HTTP it takes from the edge (never from a client)."""
    return client_timeouts(limits.timeout + BEHIND_EDGE_MARGIN)


def per_address_limit(limits: ClientLimits, publish_mode: str) -> int | None:
    """The edge's limit_conn, or None for none.

    With ingress publishing every client arrives from the routing mesh's
    address (source NAT, moby/moby#25526): a limit per address would be one
    limit shared by every client, so there is none.
    """
    if publish_mode != "host" or limits.connections_per_address == 0:
        return None
    return limits.connections_per_address
