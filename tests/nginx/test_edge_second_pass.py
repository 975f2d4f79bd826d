"""The edge's second pass over the L7 tier as DNS has it now (`@fresh_peers`), on real nginx 1.30.

A new edge's first requests: nginx opens the edge's listener before its worker
has filled `upstream l7-tier` from DNS (a timer once the worker runs), so the
requests of a new edge's first moments meet "no live upstreams". Here the DNS
stub holds its answers about the L7 tier's name until the request has met that,
which a real start leaves to chance (1 and 2 requests in two of four cluster
runs, docs/known-limits.md).

A node that died without a word: when the upstream holds one address as a
connect to the vanished L7 task times out, nginx has no try left and answers
504 (cluster scenario 3 met it once in five runs: re-resolution had left one
address while a request was connecting to the dead node's task). Here that one
address is the vanished task's.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.dropped_connects import dropped_connects
from tests.support.nginx_edge import CLIENT, EDGE_SOURCE, Answer, EdgeSite
from tests.support.nginx_loopback import pool_of_label
from tests.support.waiting import until
from tools.probe.websocket_client import WebSocket

NO_LIVE = "no live upstreams"
TIMED_OUT = "upstream timed out"
HOST = "localhost"
# Where the L7 task of a node that died was: connects to it are neither answered nor refused.
VANISHED = "127.0.0.8"


@pytest.fixture
def new_edge(nginx_install) -> Iterator[EdgeSite]:
    """An edge that listens while its lookup of the L7 tier waits unanswered."""
    with contextlib.closing(EdgeSite(nginx_install).start(l7_held=True)) as site:
        until(lambda: site.l7.dns.held(site.l7_host) > 0, "the edge asked the DNS stub for the L7 tier", timeout=5.0)
        yield site


def send(site: EdgeSite, method: str, path: str = "/") -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", site.http_port, timeout=10, source_address=(CLIENT, 0))
    conn.request(method, path, body=b"x" if method == "POST" else None, headers={"Host": HOST})
    return conn


def met_no_live_upstreams(site: EdgeSite) -> None:
    """Once the request has met the empty upstream, the DNS stub answers the edge."""
    until(lambda: NO_LIVE in site.edge.error_log(), f"the request met {NO_LIVE!r}", timeout=5.0)
    site.l7.dns.release(site.l7_host)


def test_a_get_that_finds_the_upstream_empty_is_answered_by_an_l7_task(new_edge: EdgeSite, report):
    conn = send(new_edge, "GET", "/client")
    met_no_live_upstreams(new_edge)
    response = conn.getresponse()
    answered = response.getheader("X-App-Name", f"HTTP {response.status}")
    client = Answer(response.status, dict(response.getheaders()), response.read().decode()).client
    conn.close()
    report(
        f"a GET to a new edge whose upstream was empty: {response.status} from {answered},"
        f" which saw X-Real-IP {client['X-Real-IP']} and Host {client['Host']}"
    )

    assert response.status == 200
    assert pool_of_label(answered) == "real"
    # Passed on as the first pass would have: the client's address and Host.
    assert (client["X-Real-IP"], client["X-Forwarded-For"], client["Host"]) == (CLIENT, CLIENT, HOST)


def test_a_websocket_handshake_that_finds_it_empty_is_passed_on_as_one(new_edge: EdgeSite):
    with (
        socket.create_connection(("127.0.0.1", new_edge.http_port), timeout=10, source_address=(CLIENT, 0)) as sock,
        ThreadPoolExecutor(1) as client,
    ):
        opening = client.submit(WebSocket.open, sock, HOST)  # waits for the 101
        met_no_live_upstreams(new_edge)
        ws = opening.result(timeout=10)
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
    assert pool_of_label(ws.headers["x-app-name"]) == "real"


def test_a_post_that_finds_it_empty_still_gets_502(new_edge: EdgeSite):
    conn = send(new_edge, "POST")
    response = conn.getresponse()
    conn.close()
    # Not retried: the method rule holds whatever the cause of the 502.
    assert response.status == 502
    assert NO_LIVE in new_edge.edge.error_log()


def test_a_get_whose_one_address_left_times_out_is_answered_over_fresh_dns(nginx_install, report):
    with EdgeSite(nginx_install) as site, dropped_connects(VANISHED, site.l7.args.listen_port):
        dns, name = site.l7.dns, site.l7_host
        # The upstream holds one address, the vanished task's: one failure there leaves
        # nginx no try (ngx_http_upstream_free_round_robin_peer).
        since = time.monotonic()
        dns.set(name, (VANISHED,))
        until(lambda: bool(dns.queries_for(name, since=since)), "the edge re-resolved the L7 tier", timeout=5.0)
        # DNS has the live task again, but the edge's next lookup waits: the request's
        # first pass meets the upstream as it was, and its second pass waits for the answer.
        dns.hold(name)
        dns.set(name, (EDGE_SOURCE,))
        until(lambda: dns.held(name) > 0, "the edge asked the DNS stub again", timeout=5.0)
        started = time.monotonic()
        conn = send(site, "GET")
        until(lambda: TIMED_OUT in site.edge.error_log(), f"the request met {TIMED_OUT!r}", timeout=5.0)
        dns.release(name)
        response = conn.getresponse()
        answered = response.getheader("X-App-Name", f"HTTP {response.status}")
        response.read()
        conn.close()
        waited = time.monotonic() - started
    report(f"a GET whose one address left timed out: {response.status} from {answered} after {waited:.2f}s")
    assert response.status == 200
    assert pool_of_label(answered) == "real"
