"""Kept connections to the next hop on real nginx 1.30: reused by GET and HEAD, never by a POST, and a GET
that meets one its other end has just closed is sent again (nginx/upstream_reuse.py).

The connections a request opens are counted at the kernel (/proc/net/tcp); the
race with the other end's close is made to happen every time by a backend that
closes a kept connection as the next request arrives on it
(tests/support/closing_backend.py). One client connection carries every
request, so one nginx worker, with its own kept connections, passes them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import requests

from swarm_zero_downtime.nginx.upstream_reuse import L7_TO_APP_IDLE
from tests.support.closing_backend import ClosingBackend
from tests.support.nginx_edge import EdgeSite
from tests.support.nginx_loopback import REAL_ADDRESSES, LoopbackSite, pool_of_label
from tests.support.proc_net_tcp import TIME_WAIT, peer_ports, tcp_sockets

REQUESTS = 40


def opened(ports: dict[str, int], send: Callable[[], None]) -> dict[str, int]:
    """Connections to each of ``ports`` (name -> port) that ``send()`` opened."""
    before = {name: peer_ports(port) for name, port in ports.items()}
    send()
    return {name: len(peer_ports(port) - before[name]) for name, port in ports.items()}


def test_gets_reuse_connections_on_both_hops_and_posts_open_their_own(nginx_install, report):
    with EdgeSite(nginx_install) as site, requests.Session() as client:

        def send(method: str) -> None:
            for _ in range(REQUESTS):
                assert client.request(method, site.http_url + "/", data=b"x" * (method == "POST")).ok

        client.get(site.http_url + "/")  # the client's own connection, and a kept one on each hop
        hops = {"l7": site.l7.args.listen_port, "app": site.l7.port}
        gets = opened(hops, lambda: send("GET"))
        posts = opened(hops, lambda: send("POST"))
    report(
        f"{REQUESTS} GETs on one client connection opened {gets['l7']} connections edge -> L7 and {gets['app']}"
        f" L7 -> app; {REQUESTS} POSTs opened {posts['l7']} and {posts['app']}"
    )
    # Kept from the first GET on: one L7 worker passes them all, to either real task.
    assert gets["l7"] == 0
    assert gets["app"] <= 1
    assert posts == {"l7": REQUESTS, "app": REQUESTS}


@dataclass
class Hop:
    url: str
    backend: ClosingBackend
    retried_on: str
    """The pool a GET is sent again to: the L7 tier passes it to another task (here the backup pool's, the one
    real task being the one that failed), the edge to any L7 task (here the same one, on a new connection)."""


@pytest.fixture(params=["edge-to-l7", "l7-to-app"])
def hop(request, nginx_install) -> Iterator[Hop]:
    """A closing backend behind one hop: in the L7 tier's place behind the edge, or as the one real app task."""
    if request.param == "edge-to-l7":
        with EdgeSite(nginx_install) as site:
            site.l7.nginx.stop()
            with ClosingBackend("127.0.0.1", site.l7.args.listen_port, "l7") as backend:
                yield Hop(site.http_url, backend, retried_on="l7")
        return
    with LoopbackSite(nginx_install) as site:
        only = REAL_ADDRESSES[0]
        site.dns.set(site.real_name, (only,))
        wait_for_only(site, "app-real-1")
        site.apps["app-real-1"].terminate()
        site.apps["app-real-2"].terminate()
        with ClosingBackend(only, site.port, "app-real-1") as backend:
            yield Hop(site.url, backend, retried_on="backup")


def wait_for_only(site: LoopbackSite, label: str, in_a_row: int = 20, timeout: float = 10.0) -> None:
    """Until nginx has re-resolved the real pool to ``label`` alone: that many answers in a row from it."""
    deadline = time.monotonic() + timeout
    streak = 0
    while streak < in_a_row:
        assert time.monotonic() < deadline, f"nginx still sends to more than {label} after {timeout}s"
        streak = streak + 1 if site.get("/").headers.get("X-App-Name") == label else 0


def test_a_get_on_a_kept_connection_the_other_end_closed_is_sent_again(hop: Hop, report):
    with requests.Session() as client:
        first = client.get(hop.url + "/", timeout=10)
        second = client.get(hop.url + "/", timeout=10)
    again = second.headers.get("X-App-Name", "-")
    report(
        f"GET, then a GET on the kept connection the backend closes: {first.status_code}, {second.status_code}"
        f" (answered by {again}); backend saw (connection, nth request, method) {hop.backend.requests}"
    )
    assert (first.status_code, second.status_code) == (200, 200)
    # The race happened: the second GET was sent on the kept connection; then it went out again.
    assert hop.backend.requests[:2] == [(1, 1, "GET"), (1, 2, "GET")]
    assert pool_of_label(again) == hop.retried_on


def test_a_post_never_rides_a_kept_connection(hop: Hop, report):
    with requests.Session() as client:
        first = client.get(hop.url + "/", timeout=10)
        post = client.post(hop.url + "/", data=b"order=1", timeout=10)
    report(
        f"GET, then a POST: {first.status_code}, {post.status_code};"
        f" backend saw (connection, nth request, method) {hop.backend.requests}"
    )
    # On a kept connection the backend closed it would have been sent, and never sent again (502).
    assert (first.status_code, post.status_code) == (200, 200)
    assert hop.backend.requests == [(1, 1, "GET"), (2, 1, "POST")]


def test_an_idle_kept_connection_to_the_app_is_closed_by_nginx_before_the_app_would(site: LoopbackSite, report):
    # The test app closes an idle connection after 75 s; nginx's own default is 60 s.
    before = peer_ports(site.port)
    assert site.get("/").ok
    started = time.monotonic()
    deadline = started + 5 * L7_TO_APP_IDLE.seconds
    while not closed_by_nginx(site.port, before):
        assert time.monotonic() < deadline, "nginx still holds its idle connection to the app"
        time.sleep(0.02)
    report(f"an idle kept connection L7 -> app closed by nginx after {time.monotonic() - started:.2f}s")


def closed_by_nginx(app_port: int, before: set[int]) -> bool:
    """Whether a connection to the app opened since ``before`` was closed by nginx (the closer holds TIME_WAIT)."""
    return any(s.remote_port == app_port and s.state == TIME_WAIT and s.local_port not in before for s in tcp_sockets())
