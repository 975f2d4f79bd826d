"""A draining edge (edgeDrain) on a real nginx: its public health path answers 503 while the
drain's marker file exists, and every other request is still proxied to the app.
tests/unit/nginx/test_edge_drain.py runs the shell that creates the marker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request

from nginx.edge_start_gate import start_gate_command
from nginx.l7_tier import HEALTH_PATH
from swarm.values import SECOND, Duration
from tests.support.edge_command import DEFAULT_SIGNALS
from tests.support.nginx_configs import DRAIN_MARKER_NAME
from tests.support.nginx_edge import EdgeSite, fetch
from tests.support.waiting import until

DRAIN = Duration(2 * SECOND)
DRAINING = {"edgeDrain": "2s", "stopGracePeriod": "30s"}


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


def test_the_edges_command_drains_a_real_nginx_before_it_stops_it(nginx_install):
    with EdgeSite(nginx_install, overrides=DRAINING) as site:
        # The edge's own command runs nginx from here on, as in the edge's container:
        # its nginx on PATH reads the sandbox's config.
        site.edge.stop()
        bin_dir = site.edge.host_dir / "bin"
        bin_dir.mkdir()
        (bin_dir / "nginx").write_text(f'#!/bin/sh\nexec /usr/sbin/nginx -c {site.edge.conf} "$@"\n')
        (bin_dir / "nginx").chmod(0o755)
        # No L7 task to wait for: the gate's bound is 0.
        command = start_gate_command(
            "localhost", bound=Duration(0), drain=DRAIN, marker=f"{site.edge.dir}/{DRAIN_MARKER_NAME}"
        )
        shell = subprocess.Popen(
            ["setpriv", "--pdeathsig", "KILL", *DEFAULT_SIGNALS, "chroot", str(nginx_install.rootfs), *command],
            env={"PATH": f"{site.edge.dir}/bin:/usr/sbin:/usr/bin:/bin"},
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
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
        finally:
            if shell.poll() is None:
                shell.kill()
                shell.communicate(timeout=10)
            pid_file = site.edge.host_dir / "nginx.pid"
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid_file.read_text()), signal.SIGTERM)


def probe(site: EdgeSite) -> int | None:
    """The load balancer's probe of the edge's public port: its status, or None when refused."""
    try:
        return fetch(site.http_port, HEALTH_PATH, host="203.0.113.7").status
    except ConnectionRefusedError:
        return None
