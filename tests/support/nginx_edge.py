"""The whole proxy path on loopback: client -> edge -> L7 tier -> app backends, each a real process.

    with EdgeSite(install, secrets=certificate.secrets) as site:
        site.http_url        # the edge's HTTP port (the program's edge config on a real nginx)
        site.https_port      # the edge's TLS port, when the stack has TLS
        site.l7              # the LoopbackSite behind it (L7 tier config, DNS stub, backends)

    site = EdgeSite(install).start(l7_held=True)   # the edge listens with no L7 task known yet;
    site.l7.dns.release(site.l7_host)               # the DNS stub answers its lookups from here on
    site.close()

The edge finds the L7 tier as the program makes it do, by resolving
tasks.<app>-nginx (here: 127.0.0.1 from the DNS stub); the L7 tier trusts the
client address only from where the edge connects (127.0.0.1), as it trusts
only the edge network's subnet in a swarm.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Self

from swarm_zero_downtime.nginx.edge_start_gate import start_gate_command
from swarm_zero_downtime.swarm.values import Duration
from tests.support.edge_command import DEFAULT_SIGNALS
from tests.support.nginx_chroot import NginxInstall, NginxSandbox
from tests.support.nginx_configs import EdgePlaces, edge_loopback_config
from tests.support.nginx_loopback import LoopbackSite
from tests.support.testapp_process import free_ports

EDGE_SOURCE = "127.0.0.1"
# Where test requests come from: told apart from the edge's own address.
CLIENT = "127.0.0.9"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def client(self) -> dict[str, str]:
        """What the app saw (its /client path): header -> value."""
        return dict(line.split(": ", 1) for line in self.body.splitlines())


def connect(
    port: int, *, host: str, tls: ssl.SSLContext | None = None, server_name: str | None = None, source: str = CLIENT
) -> http.client.HTTPConnection:
    """A connection from ``source`` to 127.0.0.1:port for requests with any Host header (over TLS
    when ``tls``, with ``server_name`` or ``host`` as SNI), kept for one request after another."""
    sock: socket.socket = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    try:
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname=server_name or host)
    except BaseException:
        sock.close()
        raise
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.sock = sock
    return conn


def fetch(
    port: int,
    path: str = "/client",
    *,
    host: str,
    headers: dict[str, str] | None = None,
    tls: ssl.SSLContext | None = None,
    server_name: str | None = None,
    source: str = CLIENT,
) -> Answer:
    """One request from ``source``, to 127.0.0.1:port with any Host header and SNI."""
    with contextlib.closing(connect(port, host=host, tls=tls, server_name=server_name, source=source)) as conn:
        conn.request("GET", path, headers={"Host": host, **(headers or {})})
        response = conn.getresponse()
        return Answer(response.status, dict(response.getheaders()), response.read().decode())


class EdgeSite:
    def __init__(
        self,
        install: NginxInstall,
        overrides: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.secrets = dict(secrets or {})
        self.l7 = LoopbackSite(install, "dev", self.overrides, self.secrets, trusted_proxies=f"{EDGE_SOURCE}/32")
        self.edge = NginxSandbox(install)
        self.http_port = 0
        self.https_port: int | None = None
        self.config = ""
        self.l7_host = ""

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, l7_held: bool = False) -> Self:
        """With ``l7_held`` the DNS stub holds its answers about the L7 tier's name, so the edge
        listens with its upstream empty, as a new edge does until its worker has resolved it."""
        try:
            self.l7.start()
            l7_tls = self.l7.args.tls
            # The last is for the L7 tier's HTTPS port, which a stack without TLS never uses.
            http_port, https_port, health_port, spare_port = free_ports(4)
            places = EdgePlaces(
                resolver=self.l7.dns.address,
                http_port=http_port,
                https_port=https_port,
                health_port=health_port,
                l7_http_port=self.l7.args.listen_port,
                l7_https_port=l7_tls.listen_port if l7_tls else spare_port,
                sandbox_dir=self.edge.dir,
            )
            self.config, args = edge_loopback_config(
                "dev", {"appPort": self.l7.port, **self.overrides}, places, self.secrets or None
            )
            self.l7_host = args.l7_host
            self.l7.dns.set(self.l7_host, (EDGE_SOURCE,))
            if l7_held:
                self.l7.dns.hold(self.l7_host)
            self.edge.write_main(self.config)
            checked = self.edge.check()
            if not checked.ok:
                raise AssertionError(f"nginx -t rejected the edge config:\n{checked.output}")
            self.http_port, self.https_port = args.http_port, args.https_port
            self.edge.start(self.http_port, args.health_port)
            # The edge's health port answers before it has resolved the L7 tier.
            if not l7_held:
                self._wait_for_real()
        except BaseException:
            self.close()
            raise
        return self

    def _wait_for_real(self, timeout: float = 10.0) -> None:
        """Until a real backend answers through the edge: over HTTPS with TLS on (plain HTTP only redirects then)."""
        context = None
        if self.https_port is not None:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # a readiness probe; the tests verify the certificate
        port = self.http_port if self.https_port is None else self.https_port
        host = self.l7.args.server_name or "localhost"
        deadline = time.monotonic() + timeout
        last = "nothing"
        while time.monotonic() < deadline:
            try:
                answer = fetch(port, "/", host=host, tls=context)
                if answer.headers.get("X-App-Name", "").startswith("app-real-"):
                    return
                last = f"HTTP {answer.status}"
            except (OSError, http.client.HTTPException) as exc:
                last = type(exc).__name__
            time.sleep(0.05)
        scheme = "HTTP" if context is None else "HTTPS"
        raise AssertionError(
            f"no real backend answered over {scheme} through the edge within {timeout}s (last: {last})"
        )

    @contextlib.contextmanager
    def edge_command(self, drain: Duration, marker_name: str) -> Iterator[subprocess.Popen[str]]:
        """The edge's own container command runs its nginx from here on (no L7 task to wait
        for: the gate's bound is 0), its nginx on PATH reading the sandbox's config; the
        shell, which takes the stop signal, is killed at the end if it still runs."""
        self.edge.stop()
        bin_dir = self.edge.host_dir / "bin"
        bin_dir.mkdir()
        (bin_dir / "nginx").write_text(f'#!/bin/sh\nexec /usr/sbin/nginx -c {self.edge.conf} "$@"\n')
        (bin_dir / "nginx").chmod(0o755)
        command = start_gate_command(
            "localhost", bound=Duration(0), drain=drain, marker=f"{self.edge.dir}/{marker_name}"
        )
        shell = subprocess.Popen(
            ["setpriv", "--pdeathsig", "KILL", *DEFAULT_SIGNALS, "chroot", str(self.edge.install.rootfs), *command],
            env={"PATH": f"{self.edge.dir}/bin:/usr/sbin:/usr/bin:/bin"},
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            yield shell
        finally:
            if shell.poll() is None:
                shell.kill()
                shell.communicate(timeout=10)
            pid_file = self.edge.host_dir / "nginx.pid"
            if pid_file.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid_file.read_text()), signal.SIGTERM)

    def close(self) -> None:
        self.edge.close()
        self.l7.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
