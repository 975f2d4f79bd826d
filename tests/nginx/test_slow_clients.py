"""Slow clients against the edge and the L7 tier on real nginx 1.30 (tests/support/nginx_edge.py has
the layout): a client that sends its request slowly, or nothing, is closed within clientTimeout, one
address holds no more than clientConnectionsPerAddress, and other clients are answered meanwhile.

Both keys are set small through the stack config, so every bound is a few seconds. Slow clients come
from 127.0.0.10 (tests/support/slow_clients.py), ordinary ones from elsewhere.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable

from swarm_zero_downtime.nginx.client_limits import LIMIT_STATUS
from swarm_zero_downtime.nginx.l7_tier import ACCESS_LOG_FLUSH
from tests.support.nginx_chroot import AccessLine
from tests.support.nginx_edge import EdgeSite, fetch
from tests.support.nginx_loopback import BACKEND_PATTERN
from tests.support.probe_load import Load
from tests.support.slow_clients import SLOW, Crowd, SlowClient, established_to
from tools.probe import ProbeOptions

TIMEOUT_S = 2.0
LIMIT = 3
OVERRIDES = {"clientTimeout": f"{TIMEOUT_S:g}s", "clientConnectionsPerAddress": LIMIT}
# nginx's timers never fire early; on a busy machine they fire late.
EARLY = 0.1
LATE = 1.0
# A slow client sends its next byte this often: well inside the timeout, so only a timeout on the
# whole header (not one between reads) closes it.
EVERY = 0.25
HOST = "app.example.com"


def slow_header(port: int, i: int) -> SlowClient:
    return SlowClient(
        f"header-{i}", port, first=b"GET / HTTP/1.1\r\nHost: localhost\r\n", trickle=b"X-Slow: 1\r\n" * 100, every=EVERY
    )


def slow_body(port: int, i: int) -> SlowClient:
    head = f"POST /slow-body-{i} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n".encode()
    return SlowClient(f"body-{i}", port, first=head + b"x" * 10, trickle=b"x" * 1000, every=EVERY)


def within_bound(seconds: float) -> bool:
    return TIMEOUT_S - EARLY <= seconds <= TIMEOUT_S + LATE


def until(done: Callable[[], bool], crowd: Crowd, deadline: float, then: Callable[[], None] = lambda: None) -> bool:
    """Steps the crowd (and ``then``) until ``done()`` or the deadline; whether it got done."""
    while time.monotonic() < deadline:
        if done():
            return True
        crowd.step(0.05)
        then()
    return done()


def test_slow_http_clients_are_closed_in_time_and_one_address_is_held_to_its_limit(nginx_install, report):
    with EdgeSite(nginx_install, overrides=OVERRIDES) as site, Crowd() as crowd:
        headers = [crowd.add(slow_header(site.http_port, i)) for i in range(2)]
        bodies = [crowd.add(slow_body(site.http_port, i)) for i in range(LIMIT)]
        # The edge counts a body's request once it passes it on to the L7 tier. Until all are, a
        # request from the same address could take the last place and a body get the 429: so
        # the ordinary load starts after, and only the bodies connect to the L7 tier until then.
        l7_port = site.l7.args.listen_port
        passed_on = until(lambda: established_to(l7_port) >= LIMIT, crowd, time.monotonic() + TIMEOUT_S / 2)
        ordinary = ProbeOptions(
            url=site.http_url + "/", concurrency=2, rate=40.0, timeout=5.0, pool_pattern=BACKEND_PATTERN
        )
        with Load(ordinary) as load:
            seen: list[int] = []

            def over_limit() -> bool:
                # Each trickling body is a request in progress once the edge has read its header.
                seen.append(fetch(site.http_port, "/", host="localhost", source=SLOW).status)
                return seen[-1] == LIMIT_STATUS

            refused = until(over_limit, crowd, time.monotonic() + TIMEOUT_S)
            crowd.stop_trickling()
            crowd.wait_closed(time.monotonic() + TIMEOUT_S + LATE)

            def l7_lines() -> list[AccessLine]:
                return [line for line in site.l7.nginx.access_log() if "/slow-body-" in line.request]

            # The edge closes its connection to the L7 tier with the client's: the L7 tier ends the request.
            until(lambda: len(l7_lines()) == LIMIT, crowd, time.monotonic() + LATE + ACCESS_LOG_FLUSH.seconds)
            ended = [line.status for line in l7_lines()]
            after = fetch(site.http_port, "/", host="localhost", source=SLOW).status
    result = load.result
    header_s = [round(c.closed_at - c.opened, 2) if c.closed_at else None for c in headers]
    body_s = [round(c.closed_at - c.last_sent, 2) if c.closed_at else None for c in bodies]
    report(
        f"clientTimeout {TIMEOUT_S:g}s: slow headers closed {header_s} s after they opened, silent bodies"
        f" {body_s} s after their last byte; {SLOW} over {LIMIT} requests got {seen[-1]} after {len(seen) - 1} others,"
        f" then {after}; the L7 tier ended them with {ended};"
        f" ordinary requests meanwhile: {result.sent} sent, {result.failed} failed {result.failures_by_kind}"
    )

    assert passed_on, "the edge did not pass every slow body on to the L7 tier"
    assert all(s is not None and within_bound(s) for s in header_s), header_s
    assert all(s is not None and within_bound(s) for s in body_s), body_s
    assert refused and seen[-1] == LIMIT_STATUS, seen
    # Closed by the edge (400, the L7 tier's "client closed"), never timed out by the L7 tier first (408).
    assert ended == [400] * LIMIT
    assert after == 200
    assert result.sent > 0 and result.failed == 0, result.failures_by_kind


def test_silent_tls_connections_are_closed_in_time_and_one_address_is_held_to_its_limit(
    nginx_install, certificate, tmp_path, report
):
    context = ssl.create_default_context(cafile=str(certificate.ca_file(tmp_path)))
    with (
        EdgeSite(
            nginx_install, overrides={"publicHost": HOST, "httpsPort": 8443, **OVERRIDES}, secrets=certificate.secrets
        ) as site,
        Crowd() as crowd,
    ):
        assert site.https_port is not None and site.l7.args.tls is not None
        https_port, l7_port = site.https_port, site.l7.args.tls.listen_port
        answered: list[int] = []

        def ordinary() -> None:
            answered.append(fetch(https_port, "/", host=HOST, tls=context).status)

        silent = [crowd.add(SlowClient(f"tls-{i}", https_port)) for i in range(LIMIT)]
        # The edge counts a connection before it passes it on: these are counted once the L7 tier has them.
        passed_on = until(lambda: established_to(l7_port) >= LIMIT, crowd, time.monotonic() + TIMEOUT_S / 2)
        over = crowd.add(SlowClient("tls-over", https_port))
        crowd.wait_closed(time.monotonic() + TIMEOUT_S, [over])
        until(lambda: not any(c.open for c in silent), crowd, time.monotonic() + TIMEOUT_S + LATE, ordinary)
        until(lambda: established_to(l7_port) == 0, crowd, time.monotonic() + LATE)
        left_to_l7 = established_to(l7_port)
        after = fetch(https_port, "/", host=HOST, tls=context, source=SLOW).status
    silent_s = [round(c.closed_at - c.opened, 2) if c.closed_at else None for c in silent]
    over_s = round(over.closed_at - over.opened, 3) if over.closed_at else None
    report(
        f"clientTimeout {TIMEOUT_S:g}s over TLS: silent connections closed {silent_s} s after they opened;"
        f" one over {LIMIT} from {SLOW} closed after {over_s} s; edge-to-L7 connections left: {left_to_l7};"
        f" then {SLOW} got {after}; ordinary HTTPS requests meanwhile: {answered.count(200)} of {len(answered)} got 200"
    )

    assert passed_on
    assert all(s is not None and within_bound(s) for s in silent_s), silent_s
    assert over_s is not None and over_s < TIMEOUT_S / 4, over_s
    assert left_to_l7 == 0
    assert after == 200
    assert answered and answered == [200] * len(answered), answered
