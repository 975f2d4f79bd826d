"""The edge and the L7 tier on real nginx 1.30: the client's address, TLS, Host
handling, and the app's own errors (tests/support/nginx_edge.py has the layout).

Requests come from 127.0.0.9, so the client's address is told apart from
where the edge connects to the L7 tier from (127.0.0.1).
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarm_zero_downtime.nginx.l7_tier import HEADER_BUFFER_KIB, HEALTH_PATH
from tests.support.nginx_edge import CLIENT, Answer, EdgeSite, connect
from tests.support.nginx_edge import fetch as fetch_as
from tests.support.nginx_loopback import LoopbackSite, pool_of_label
from tests.support.tls import IssuedCertificate

HOST = "app.example.com"
HTTPS_PORT = 8443  # the stack's published HTTPS port: the redirect names it
# Forwarding headers frameworks believe, as a client would forge them.
FORGED_HOST_AND_PORT = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Port": "1"}
FORGED_OTHERS = {
    "Forwarded": "for=6.6.6.6;host=evil.example;proto=https",
    "X-Original-URL": "/admin",
    "X-Rewrite-URL": "/admin",
    "X-Forwarded-Prefix": "/evil",
    "X-Forwarded-Server": "evil.example",
    "X-Host": "evil.example",
    "True-Client-IP": "6.6.6.6",
    "X-Client-IP": "6.6.6.6",
    "X-Cluster-Client-IP": "6.6.6.6",
}
NONE_OF_THE_OTHERS = dict.fromkeys(FORGED_OTHERS, "-")


def fetch(port: int, path: str = "/client", host: str = HOST, **kwargs) -> Answer:
    return fetch_as(port, path, host=host, **kwargs)


def client_context(certificate: IssuedCertificate, directory: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certificate.ca_file(directory)))
    return context


@pytest.fixture
def edge(nginx_install) -> Iterator[EdgeSite]:
    with EdgeSite(nginx_install, overrides={"publicHost": HOST}) as site:
        yield site


@pytest.fixture
def tls_edge(nginx_install, certificate) -> Iterator[EdgeSite]:
    with EdgeSite(
        nginx_install, overrides={"publicHost": HOST, "httpsPort": HTTPS_PORT}, secrets=certificate.secrets
    ) as site:
        yield site


# --- the client's address ---------------------------------------------------------------


def test_the_app_and_the_l7_log_see_the_client_not_the_edge_and_not_a_forged_header(edge: EdgeSite, report):
    forged = {"X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6"}
    answer = fetch(edge.http_port, headers=forged)
    report(f"client address over HTTP through the edge: app saw {answer.client}")

    assert answer.status == 200
    assert answer.client["X-Real-IP"] == CLIENT
    assert answer.client["X-Forwarded-For"] == CLIENT
    assert answer.client["X-Forwarded-Proto"] == "http"
    assert answer.client["Host"] == HOST
    log = edge.l7.nginx.access_log_when(lambda lines: any("/client" in line.request for line in lines))
    assert [line.remote for line in log if "/client" in line.request] == [CLIENT]


def test_forwarding_headers_a_client_forges_are_overwritten_or_cleared(nginx_install, report):
    with EdgeSite(nginx_install, overrides={"publicHost": HOST}) as site:
        answer = fetch(site.http_port, headers={**FORGED_HOST_AND_PORT, **FORGED_OTHERS})
    report(f"forged forwarding headers through the edge and the L7 tier: app saw {answer.client}")

    assert answer.status == 200
    # The host nginx validated; the port is not known behind an outside load balancer.
    assert answer.client["X-Forwarded-Host"] == HOST
    assert answer.client["X-Forwarded-Port"] == "-"
    assert {name: answer.client[name] for name in FORGED_OTHERS} == NONE_OF_THE_OTHERS


def test_a_client_reaching_the_l7_tier_directly_cannot_claim_another_address(nginx_install):
    # Only the edge's address is trusted: a forged X-Real-IP from anywhere else is ignored.
    with LoopbackSite(nginx_install, overrides={"publicHost": HOST}, trusted_proxies="127.0.0.1/32") as site:
        answer = fetch(site.args.listen_port, headers={"X-Real-IP": "6.6.6.6", "X-Forwarded-For": "6.6.6.6"})
    assert answer.client["X-Real-IP"] == CLIENT
    assert answer.client["X-Forwarded-For"] == CLIENT


# --- Host handling ------------------------------------------------------------------------


def test_other_hosts_are_refused_at_once_and_the_public_host_is_served(edge: EdgeSite, report):
    served = fetch(edge.http_port, "/", host=HOST)
    other = fetch(edge.http_port, "/", host="other.example.com")
    bare = fetch(edge.http_port, "/", host="127.0.0.1")
    report(f"Host {HOST}: {served.status}; another host: {other.status}; the bare address: {bare.status}")
    assert served.status == 200
    assert (other.status, bare.status) == (421, 421)
    # Refused by the L7 tier once each (an answer, so the edge does not retry it).
    log = edge.l7.nginx.access_log_when(lambda lines: [line.status for line in lines].count(421) >= 2)
    assert [line.status for line in log].count(421) == 2


def raw_http(port: int, request: bytes) -> tuple[int, bytes]:
    """(status, body) of one request sent byte for byte from CLIENT, read until nginx closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(CLIENT, 0)) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize("tls", [False, True], ids=["http", "tls"])
def test_a_load_balancer_probe_without_host_gets_200_on_the_health_path_and_nothing_else(
    nginx_install, certificate, tls: bool, report
):
    # HAProxy's `option httpchk` sends HTTP/1.0 with no Host; with TLS on, plain
    # HTTP redirects, but the probe is still answered.
    secrets = certificate.secrets if tls else None
    with EdgeSite(nginx_install, overrides={"publicHost": HOST}, secrets=secrets) as site:
        probe = raw_http(site.http_port, f"GET {HEALTH_PATH} HTTP/1.0\r\n\r\n".encode())
        other = raw_http(site.http_port, b"GET / HTTP/1.0\r\n\r\n")
        log = site.l7.nginx.access_log_when(lambda lines: any(line.status == 400 for line in lines))
        refused = [line.upstreams for line in log if line.status == 400]
    report(f"HTTP/1.0 without Host through the edge (TLS {tls}): {HEALTH_PATH} {probe[0]}, / {other[0]}")
    assert probe == (200, b"ok\n")
    # Any other request without Host names no site: refused by the L7 tier, never passed to the app.
    assert other[0] == 400
    assert refused == [("-",)]


def test_localhost_stack_serves_any_host(nginx_install):
    with EdgeSite(nginx_install) as site:
        assert fetch(site.http_port, "/", host="anything.example").status == 200
        assert fetch(site.http_port, "/", host="127.0.0.1").status == 200


# --- TLS ----------------------------------------------------------------------------------


def test_https_ends_at_the_l7_tier_with_the_client_address_from_the_proxy_protocol(
    tls_edge: EdgeSite, certificate, tmp_path, report
):
    assert tls_edge.https_port is not None
    context = client_context(certificate, tmp_path)
    answer = fetch(
        tls_edge.https_port,
        tls=context,
        headers={"X-Forwarded-For": "6.6.6.6", **FORGED_HOST_AND_PORT, **FORGED_OTHERS},
    )
    report(f"HTTPS through the edge (TLS passed through, PROXY protocol): app saw {answer.client}")

    assert answer.status == 200
    assert answer.client == {
        "Host": HOST,
        "X-Real-IP": CLIENT,
        "X-Forwarded-For": CLIENT,
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": HOST,
        "X-Forwarded-Port": "-",
        **NONE_OF_THE_OTHERS,
        # No WebSocket here: hop-by-hop headers as nginx sends them by default.
        "Connection": "-",
        "Upgrade": "-",
    }
    log = tls_edge.l7.nginx.access_log_when(lambda lines: any("/client" in line.request for line in lines))
    assert [line.remote for line in log if "/client" in line.request] == [CLIENT]


def test_plain_http_is_redirected_to_https(tls_edge: EdgeSite):
    answer = fetch(tls_edge.http_port, "/some/page?x=1")
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{HOST}:{HTTPS_PORT}/some/page?x=1"


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_tls_below_1_2_is_refused(tls_edge: EdgeSite, certificate, tmp_path):
    assert tls_edge.https_port is not None
    context = client_context(certificate, tmp_path)
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError):
        fetch(tls_edge.https_port, tls=context)
    # The same client allowed TLS 1.2 gets in: the refusal was the version.
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    assert fetch(tls_edge.https_port, tls=context).status == 200


def test_tls_for_another_name_is_refused_in_the_handshake(tls_edge: EdgeSite, certificate, tmp_path):
    assert tls_edge.https_port is not None
    context = client_context(certificate, tmp_path)
    context.check_hostname = False
    with pytest.raises(ssl.SSLError):
        fetch(tls_edge.https_port, tls=context, server_name="other.example.com")


def test_over_tls_another_host_on_a_connection_for_the_served_name_gets_421(
    tls_edge: EdgeSite, certificate, tmp_path, report
):
    # The handshake named the served host, so it completes; the Host header then
    # picks the default server, which answers as it does over plain HTTP.
    assert tls_edge.https_port is not None
    context = client_context(certificate, tmp_path)
    other = fetch(tls_edge.https_port, "/", host="other.example.com", tls=context, server_name=HOST)
    served = fetch(tls_edge.https_port, "/", host=HOST, tls=context)
    report(f"HTTPS with SNI {HOST}: Host other.example.com {other.status}, Host {HOST} {served.status}")
    assert other.status == 421
    assert "X-App-Name" not in other.headers
    assert served.status == 200
    log = tls_edge.l7.nginx.access_log_when(lambda lines: 421 in [line.status for line in lines])
    assert [line.status for line in log].count(421) == 1


def test_a_draining_l7_task_answers_a_keep_alive_https_client_instead_of_resetting_it(
    tls_edge: EdgeSite, certificate, tmp_path
):
    # A draining nginx closes idle keep-alive connections at once; over HTTPS the
    # client's connection ends at the L7 task, and a request sent at that instant
    # was reset (1 of 31,632 in one CI run of the certificate rotation).
    assert tls_edge.https_port is not None
    l7 = tls_edge.l7
    assert l7.args.tls is not None
    connection = connect(tls_edge.https_port, host=HOST, tls=client_context(certificate, tmp_path))
    try:
        connection.request("GET", "/")
        first = connection.getresponse()
        first.read()
        assert first.status == 200
        assert first.getheader("Connection") == "keep-alive"

        os.kill(l7.nginx.master_pid, signal.SIGQUIT)  # what Swarm sends a draining L7 task (stop_signal)
        # Every worker has begun to drain once the listener is gone: connections are refused.
        refused_after = wait_refused(l7.args.tls.listen_port)
        assert refused_after < 0.5, f"the drain took {refused_after:.2f}s to begin: keepalive_min_timeout may be over"

        connection.request("GET", "/")
        second = connection.getresponse()
        second.read()
    finally:
        connection.close()
    assert second.status == 200
    assert second.getheader("Connection") == "close"


def wait_refused(port: int, timeout: float = 5.0) -> float:
    """Seconds until a connection to 127.0.0.1:port is refused."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return time.monotonic() - started
        time.sleep(0.005)
    raise AssertionError(f"127.0.0.1:{port} still accepts connections {timeout}s after SIGQUIT")


# --- the app's own errors -----------------------------------------------------------------


def test_an_app_answering_503_is_not_taken_out_of_rotation(nginx_install, report):
    # Before: proxy_next_upstream http_503 with max_fails=1 let one such answer
    # disable every real task for fail_timeout, and the backup pool took over.
    with LoopbackSite(nginx_install) as site:
        errors = [site.get("/status/503") for _ in range(4)]
        after = [site.get("/").headers["X-App-Name"] for _ in range(40)]
    pools = {pool_of_label(name) for name in after}
    report(f"4 x GET /status/503 answered {[e.status_code for e in errors]}; next 40 GETs answered by {sorted(pools)}")

    assert [e.status_code for e in errors] == [503] * 4
    assert all(pool_of_label(e.headers["X-App-Name"]) == "real" for e in errors)
    assert pools == {"real"}


# An answer's headers of these sizes (the app's own few hundred bytes on top):
# a 6 KB Location, 16 KB of cookies, and nearly all the L7 tier's buffer.
BIG_HEADERS = (6_000, 16_000, HEADER_BUFFER_KIB * 1024 - 1024)
TOO_BIG = 2 * HEADER_BUFFER_KIB * 1024


def answered_by(port: int) -> str:
    answer = fetch(port, "/")
    return answer.headers.get("X-App-Name", f"HTTP {answer.status}")


def test_big_answer_headers_pass_both_tiers_and_no_answer_takes_the_real_pool_out(edge: EdgeSite, report):
    # Before: headers over nginx's 4 KiB proxy_buffer_size were "too big", which
    # nginx counts as the task failing whatever proxy_next_upstream says; with
    # max_fails=1 and the GET re-sent to every task, one request ejected the pool.
    big = {size: fetch(edge.http_port, f"/headers/{size}") for size in BIG_HEADERS}
    served = {answered_by(edge.http_port) for _ in range(20)}
    too_big = fetch(edge.http_port, f"/headers/{TOO_BIG}")
    after = [answered_by(edge.http_port) for _ in range(20)]
    log = edge.l7.nginx.access_log_when(lambda lines: any(f"/headers/{TOO_BIG}" in line.request for line in lines))
    tried = [line.upstreams for line in log if f"/headers/{TOO_BIG}" in line.request]
    report(
        f"answers with {', '.join(map(str, BIG_HEADERS))} bytes of headers: {[a.status for a in big.values()]}, "
        f"then served by {sorted(served)}; {TOO_BIG} bytes: {too_big.status}, tried on {tried}; "
        f"next 20 GETs answered by {sorted(set(after))}"
    )

    assert [a.status for a in big.values()] == [200] * len(BIG_HEADERS)
    assert [len(a.headers["X-Padding"]) for a in big.values()] == list(BIG_HEADERS)
    # Both real tasks still in rotation.
    assert served == {"app-real-1", "app-real-2"}
    # Headers no buffer holds: nginx counts that against the one task that sent
    # them (see docs/edge-and-l7-tier.md), but the GET goes to no other task.
    assert too_big.status == 502
    assert len(tried) == 1 and len(tried[0]) == 1, tried
    assert {pool_of_label(name) for name in after} == {"real"}
