"""A draining edge (edgeDrain) on a real nginx: its public health path answers 503 while the
drain's marker file exists, and every other request is still proxied to the app; with TLS
the L7 tier ends each connection passed through between two requests, well within the drain.
tests/unit/nginx/test_edge_drain.py runs the shell that creates the marker."""

from __future__ import annotations

import contextlib
import signal
import ssl
import time
import urllib.request

from swarm_zero_downtime.nginx.edge_drain import tls_connection_lifetime
from swarm_zero_downtime.nginx.l7_tier import HEALTH_PATH
from swarm_zero_downtime.swarm.values import SECOND, Duration
from tests.support.load_balancer import EdgeAddress, LoadBalancer
from tests.support.nginx_configs import DRAIN_MARKER_NAME
from tests.support.nginx_edge import EdgeSite, connect, fetch
from tests.support.probe_load import Load
from tests.support.testapp_process import free_ports
from tests.support.tls import issue
from tests.support.waiting import until
from tools.probe import ProbeOptions

DRAIN = Duration(2 * SECOND)
DRAINING = {"edgeDrain": "2s", "stopGracePeriod": "30s"}
# Behind HAProxy, which takes an edge out within 0.75 s (Checks()): a TLS connection it keeps
# through the stopping edge then ends within 0.75 s + half the drain (2 s) + two of the
# clients' slowest requests (0.5 s each): before the edge's nginx stops (nginx/edge_drain.py).
BEHIND_A_BALANCER = Duration(4 * SECOND)
SLOW_PATH = "/500"


def test_a_marked_edge_fails_its_public_health_check_and_serves_on(nginx_install):
    with EdgeSite(nginx_install, overrides=DRAINING) as site:
        # An outside load balancer's probe of the node, whatever its Host.
        probe = fetch(site.http_port, HEALTH_PATH, host="203.0.113.7")
        assert (probe.status, probe.body) == (200, "ok\n")

        (site.edge.host_dir / DRAIN_MARKER_NAME).touch()

        probe = fetch(site.http_port, HEALTH_PATH, host="203.0.113.7")
        assert (probe.status, probe.body) == (503, "draining\n")
        served = fetch(site.http_port, "/", host="localhost")
        assert served.status == 200 and served.headers["X-App-Name"].startswith("app-real-")
        # Swarm's own check: a draining edge is healthy, only leaving.
        with urllib.request.urlopen(f"http://127.0.0.1:{site.edge.health_port}{HEALTH_PATH}", timeout=5) as own:
            assert own.status == 200


def test_with_tls_the_l7_tier_ends_each_connection_passed_through_between_two_requests(nginx_install, report):
    """A load balancer in TCP mode keeps the TLS connections it opened through a node it took out:
    the L7 tier answers the first request past half the drain with "Connection: close", so a client
    that goes on sending opens its next connection through a node still in."""
    certificate = issue("localhost")
    lifetime = tls_connection_lifetime(DRAIN)
    assert lifetime is not None
    with EdgeSite(nginx_install, overrides=DRAINING, secrets=certificate.secrets) as site:
        assert site.https_port is not None
        context = ssl.create_default_context()
        certificate.ca.configure_trust(context)
        opened = time.monotonic()
        connection = connect(site.https_port, host="localhost", tls=context)
        answers: list[tuple[float, int, str | None]] = []
        with contextlib.closing(connection):
            while not answers or answers[-1][2] != "close":
                assert time.monotonic() - opened < lifetime.seconds + 5, answers[-3:]
                # 50 ms each (the test app's slow path), well below nginx's 1000 requests a connection.
                connection.request("GET", "/50", headers={"Host": "localhost"})
                response = connection.getresponse()
                response.read()
                answers.append((time.monotonic() - opened, response.status, response.getheader("Connection")))
    closed_after_s = answers[-1][0]
    report(
        f"TLS through a draining edge (edgeDrain {DRAIN.text}): {len(answers)} requests on one connection,"
        f" the last answered with Connection: close {closed_after_s:.2f}s after it opened"
    )
    assert {status for _, status, _ in answers} == {200}
    # Reused until then, and closed by the first request past the lifetime.
    assert len(answers) > 2 and [close for _, _, close in answers[:-1]] == ["keep-alive"] * (len(answers) - 1)
    assert lifetime.seconds <= closed_after_s < lifetime.seconds + 1


def test_the_edges_command_drains_a_real_nginx_before_it_stops_it(nginx_install):
    with EdgeSite(nginx_install, overrides=DRAINING) as site, site.edge_command(DRAIN, DRAIN_MARKER_NAME) as shell:
        until(lambda: probe(site) == 200, "the edge's nginx serves")
        signalled = time.monotonic()
        shell.send_signal(signal.SIGQUIT)
        until(lambda: probe(site) == 503, "the probe fails")
        served = fetch(site.http_port, "/", host="localhost")
        assert served.status == 200 and served.headers["X-App-Name"].startswith("app-real-")
        _, err = shell.communicate(timeout=DRAIN.seconds + 10)
        assert time.monotonic() - signalled >= DRAIN.seconds
        # nginx's graceful stop: it set its own QUIT handler, ignored as the shell started it.
        assert shell.returncode == 0, err
        assert "signal 3 (SIGQUIT) received" in site.edge.error_log()
        assert probe(site) is None


def probe(site: EdgeSite) -> int | None:
    """The load balancer's probe of the edge's public port: its status, or None when refused."""
    try:
        return fetch(site.http_port, HEALTH_PATH, host="203.0.113.7").status
    except ConnectionRefusedError:
        return None


def test_behind_a_load_balancer_a_stopping_edge_fails_no_http_or_https_request(nginx_install, report, tmp_path):
    """Two nodes' edges behind HAProxy: HTTP in HTTP mode, TLS passed through in TCP mode, each edge
    checked on its HTTP port's health path. One edge's command gets the stop signal under load:
    HAProxy takes it out, and the TLS connections it keeps there end at the L7 tier in the drain."""
    certificate = issue("127.0.0.1")  # the clients connect to HAProxy's address
    ca_file = str(certificate.ca_file(tmp_path))
    overrides = {"edgeDrain": BEHIND_A_BALANCER.text, "stopGracePeriod": "30s"}
    with (
        EdgeSite(nginx_install, overrides=overrides, secrets=certificate.secrets) as stopping,
        EdgeSite(nginx_install, overrides=overrides, secrets=certificate.secrets) as staying,
        stopping.edge_command(BEHIND_A_BALANCER, DRAIN_MARKER_NAME) as shell,
    ):
        edges = {
            name: EdgeAddress("127.0.0.1", site.http_port, site.https_port)
            for name, site in (("stopping", stopping), ("staying", staying))
        }
        port, tls_port = free_ports(2)
        with LoadBalancer(edges, port, HEALTH_PATH, 5, tls_port=tls_port) as balancer:
            balancer.wait_up()
            with Load(load_options(balancer.url)) as plain, Load(load_options(balancer.tls_url(), ca_file)) as tls:
                until(lambda: balancer.states()["stopping tls"].sessions > 0, "a TLS client on the stopping edge")
                held = balancer.states()["stopping tls"].sessions
                signalled = time.monotonic()
                shell.send_signal(signal.SIGQUIT)
                _, err = shell.communicate(timeout=BEHIND_A_BALANCER.seconds + 30)
                stopped_s = time.monotonic() - signalled
                sent = tls.probe.progress().sent
                until(lambda: tls.probe.progress().sent > sent + 10, "HTTPS answered after the stop")
            states = balancer.states()
    report(
        f"behind HAProxy (HTTP mode, TLS passed through), one edge stopped with edgeDrain {BEHIND_A_BALANCER.text}"
        f" ({held} TLS connections on it at the signal; its nginx gone {stopped_s:.1f}s after):"
        f" HTTP sent={plain.result.sent} failed={plain.result.failed} {plain.result.failures_by_kind},"
        f" HTTPS sent={tls.result.sent} failed={tls.result.failed} {tls.result.failures_by_kind}"
    )
    assert shell.returncode == 0, err
    assert plain.result.failed == 0 and tls.result.failed == 0, (plain.result.failures, tls.result.failures)
    # Taken out once by each frontend's checks; no connection was left for nginx to close at its deadline.
    assert (states["stopping"].went_down, states["stopping tls"].went_down) == (1, 1), states
    assert BEHIND_A_BALANCER.seconds <= stopped_s < BEHIND_A_BALANCER.seconds + 2


def load_options(url: str, ca_file: str | None = None) -> ProbeOptions:
    """4 clients, 2 of them on 0.5 s requests, back to back."""
    return ProbeOptions(url, concurrency=4, slow_path=SLOW_PATH, slow_share=0.5, ca_file=ca_file)
