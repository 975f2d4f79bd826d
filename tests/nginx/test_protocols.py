"""What real web apps use, through the edge and the L7 tier on real nginx 1.30:
WebSockets, server-sent events, request bodies at and over the limit, the
app's timeouts, and HTTP/2 over TLS (tests/support/nginx_edge.py has the
layout: client -> edge -> L7 tier -> test app, each a real process).
"""

from __future__ import annotations

import shlex
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from tests.support.nginx_chroot import run_in_rootfs
from tests.support.nginx_edge import CLIENT, EdgeSite, fetch
from tests.support.tls import IssuedCertificate
from tools.probe.websocket_client import HandshakeRefused, WebSocket

HOST = "app.example.com"
# How long the test app holds an event stream open after its first event.
HOLD_MS = 1500


@contextmanager
def edge_site(nginx_install, certificate: IssuedCertificate, tls: bool, **overrides: object) -> Iterator[EdgeSite]:
    secrets = certificate.secrets if tls else None
    with EdgeSite(nginx_install, overrides={"publicHost": HOST, **overrides}, secrets=secrets) as site:
        yield site


def client_context(certificate: IssuedCertificate) -> ssl.SSLContext:
    context = ssl.create_default_context()
    certificate.ca.configure_trust(context)
    return context


@contextmanager
def connect(site: EdgeSite, certificate: IssuedCertificate, tls: bool) -> Iterator[socket.socket | ssl.SSLSocket]:
    """A client connection to the edge: its HTTP port, or its TLS port (TLS ends at the L7 tier)."""
    port = site.https_port if tls else site.http_port
    assert port is not None
    sock: socket.socket | ssl.SSLSocket = socket.create_connection(
        ("127.0.0.1", port), timeout=10, source_address=(CLIENT, 0)
    )
    try:
        if tls:
            sock = client_context(certificate).wrap_socket(sock, server_hostname=HOST)
        yield sock
    finally:
        sock.close()


TLS_OR_NOT = pytest.mark.parametrize("tls", [False, True], ids=["http", "https"])


# --- WebSockets ---------------------------------------------------------------------------


@TLS_OR_NOT
def test_a_websocket_opens_and_echoes_messages_both_ways_through_both_tiers(nginx_install, certificate, tls, report):
    with edge_site(nginx_install, certificate, tls) as site:
        with connect(site, certificate, tls) as sock:
            ws = WebSocket.open(sock, HOST)
            echoes = []
            for message in ("hello", "again"):
                ws.send_text(message)
                echoes.append(ws.receive_text())
            ws.close()
        # An ordinary request is sent on as before: no Upgrade, no Connection header.
        port = site.https_port if tls else site.http_port
        assert port is not None
        ordinary = fetch(port, "/client", host=HOST, tls=client_context(certificate) if tls else None)
    report(f"WebSocket through edge and L7 (TLS {tls}): 101 from {ws.headers.get('x-app-name')}, echoed {echoes}")
    assert ws.headers["x-app-name"].startswith("app-real-")
    assert echoes == ["hello", "again"]
    assert (ordinary.client["Connection"], ordinary.client["Upgrade"]) == ("-", "-")


def test_an_idle_websocket_is_closed_after_websocket_idle_timeout_not_the_read_timeout(
    nginx_install, certificate, report
):
    # A 1 s idle bound against the 60 s read timeout: the upgrade has a location of its own.
    with edge_site(nginx_install, certificate, False, websocketIdleTimeout="1s") as site:
        with connect(site, certificate, False) as sock:
            ws = WebSocket.open(sock, HOST)
            ws.send_text("hello")
            assert ws.receive_text() == "hello"
            started = time.monotonic()
            sock.settimeout(10)
            closed = sock.recv(1)
            idle = time.monotonic() - started
        log = [
            line
            for line in site.l7.nginx.access_log_when(lambda lines: any(line.path == "/ws" for line in lines))
            if line.path == "/ws"
        ]
    report(f"idle WebSocket with websocketIdleTimeout 1s: closed after {idle:.2f}s, L7 logged {log[0].status}")
    assert closed == b""
    assert 0.9 <= idle <= 3.0
    assert [line.status for line in log] == [101]


def test_a_websocket_handshake_is_refused_by_an_app_that_does_not_switch(nginx_install, certificate):
    # The handshake's answer is the app's own: nginx upgrades only on its 101.
    with (
        edge_site(nginx_install, certificate, False) as site,
        connect(site, certificate, False) as sock,
        pytest.raises(HandshakeRefused) as refused,
    ):
        WebSocket.open(sock, HOST, path="/client")
    assert refused.value.status == 200


# --- server-sent events -------------------------------------------------------------------


def event_stream(sock: socket.socket | ssl.SSLSocket, path: str) -> tuple[float, float]:
    """(seconds to the first event, seconds to the last) of one event stream from the test app."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
    started = time.monotonic()
    received = b""
    first = None
    while b"data: last" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"the stream ended without its last event: {received!r}"
        received += chunk
        if first is None and b"data: first" in received:
            first = time.monotonic() - started
    assert first is not None and b" 200 " in received.split(b"\r\n", 1)[0], received
    return first, time.monotonic() - started


STREAMS = {
    # The app marks its stream: nginx honours X-Accel-Buffering at the L7 tier, the edge never buffers.
    "marked, http": (False, "", True, True),
    "marked, https": (True, "", True, True),
    # An unmarked stream is buffered by default: the first event comes with the last.
    "unmarked, buffering on": (False, "/unmarked", True, False),
    "unmarked, responseBuffering false": (False, "/unmarked", False, True),
}


@pytest.mark.parametrize("tls, suffix, buffering, streamed", STREAMS.values(), ids=STREAMS.keys())
def test_server_sent_events_reach_the_client_before_the_app_has_finished(
    nginx_install, certificate, tls, suffix, buffering, streamed, report
):
    with (
        edge_site(nginx_install, certificate, tls, responseBuffering=buffering) as site,
        connect(site, certificate, tls) as sock,
    ):
        first, last = event_stream(sock, f"/events/{HOLD_MS}{suffix}")
    report(
        f"event stream (TLS {tls}, {suffix or 'marked'}, responseBuffering {buffering}):"
        f" first event after {first:.2f}s, last after {last:.2f}s"
    )
    assert last >= HOLD_MS / 1000
    if streamed:
        # Before the app had finished: it holds the stream open for HOLD_MS after the first.
        assert first < last - HOLD_MS / 2000
    else:
        assert first >= HOLD_MS / 1000


# --- request bodies -----------------------------------------------------------------------


def test_a_request_body_at_the_limit_reaches_the_app_and_one_byte_more_gets_413(nginx_install, certificate, report):
    # Small: a body nginx holds in memory. The rootfs's nginx cannot write the
    # temporary file a larger one goes to (the images' can).
    limit = 1024
    with edge_site(nginx_install, certificate, False, requestBodyMaxSize="1k") as site:

        def post(body: bytes | Iterator[bytes]) -> requests.Response:
            return requests.post(f"{site.http_url}/", data=body, headers={"Host": HOST}, timeout=10)

        at_limit = post(b"x" * limit)
        over = post(b"x" * (limit + 1))
        # Chunked: no length to refuse up front, so the L7 tier counts as it reads.
        chunked_over = post(iter([b"x" * limit, b"x"]))
        log = site.l7.nginx.access_log_when(lambda lines: [line.status for line in lines].count(413) == 2)
    report(
        f"requestBodyMaxSize 1k: {limit} bytes {at_limit.status_code}, one more {over.status_code},"
        f" chunked one more {chunked_over.status_code}"
    )
    assert at_limit.status_code == 200
    assert at_limit.headers["X-App-Name"].startswith("app-real-")
    assert (over.status_code, chunked_over.status_code) == (413, 413)
    # Refused by the L7 tier itself: never sent to the app.
    assert [line.upstreams for line in log if line.status == 413] == [("-",), ("-",)]


# --- timeouts to the app ------------------------------------------------------------------


def test_an_app_slower_than_the_read_timeout_gets_504_from_the_l7_tier_and_is_not_retried(
    nginx_install, certificate, report
):
    timeouts = {"nginxReadTimeout": "2s", "nginxNextUpstreamTimeout": "1s"}
    with edge_site(nginx_install, certificate, False, **timeouts) as site:

        def get(path: str) -> requests.Response:
            return requests.get(f"{site.http_url}{path}", headers={"Host": HOST}, timeout=30)

        within = get("/1000")
        started = time.monotonic()
        slow = get("/3000")
        waited = time.monotonic() - started
        log = [
            line
            for line in site.l7.nginx.access_log_when(lambda lines: any(line.path == "/3000" for line in lines))
            if line.path == "/3000"
        ]
    report(f"nginxReadTimeout 2s: /1000 {within.status_code}, /3000 {slow.status_code} after {waited:.2f}s")
    assert within.status_code == 200
    assert slow.status_code == 504
    assert 2.0 <= waited < 3.0
    # One task tried, once: the edge passed the L7 tier's answer on and did not try again.
    assert [(line.status, len(line.upstreams)) for line in log] == [(504, 1)]


# --- HTTP/2 -------------------------------------------------------------------------------


def curl_http_version(site: EdgeSite, certificate: IssuedCertificate, option: str) -> str:
    """The HTTP version curl (the rootfs's, with nghttp2) got through the edge's TLS port."""
    ca = certificate.ca_file(site.edge.host_dir)
    command = shlex.join(
        [
            "curl", "-sS", option, "-o", "/dev/null", "-w", "%{http_code} %{http_version}",
            "--cacert", f"{site.edge.dir}/{ca.name}",
            "--resolve", f"{HOST}:{site.https_port}:127.0.0.1",
            f"https://{HOST}:{site.https_port}/",
        ]
    )  # fmt: skip
    result = run_in_rootfs(site.l7.install, command, timeout=10)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("http2", [True, False], ids=["http2 on", "http2 off"])
def test_https_clients_get_http2_when_they_ask_for_it_and_http11_still_works(nginx_install, certificate, http2, report):
    with edge_site(nginx_install, certificate, True, http2=http2) as site:
        asked_h2 = curl_http_version(site, certificate, "--http2")
        asked_h11 = curl_http_version(site, certificate, "--http1.1")
    report(f"HTTPS through the edge, http2 {http2}: asked for h2 got {asked_h2!r}, asked for 1.1 got {asked_h11!r}")
    assert asked_h2 == ("200 2" if http2 else "200 1.1")
    assert asked_h11 == "200 1.1"
