"""A real load balancer in front of the nodes' edges: Debian's HAProxy, as a user's would be.

HTTP mode with active health checks of the edge's public health path on each
node (`option httpchk`, which the edge answers whatever the Host), round robin,
and HAProxy's defaults otherwise (`retries 3` on a failed connect to the same
server, no redispatch, no retry of a request once sent). With TLS on the edges,
a second frontend passes TLS through in TCP mode to each node's HTTPS port,
checked on the same health path of its HTTP port: HAProxy keeps a connection
on the node it opened it to, whatever the node's checks say later. HAProxy runs
in the foreground as the test's child and is asked for its servers' states on
its stats socket.
"""

from __future__ import annotations

import csv
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Self

CONFIG = """\
global
    stats socket {socket} mode 600 level admin
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client {timeout_s}s
    timeout server {timeout_s}s
    option httpchk
    http-check send meth GET uri {health_path}
    http-check expect status 200

frontend entry
    bind 127.0.0.1:{port}
    default_backend {http_backend}

backend {http_backend}
    balance roundrobin
    default-server check inter {interval_ms}ms fall {fall} rise {rise}
{servers}
"""

TLS_CONFIG = """
frontend entry_tls
    mode tcp
    bind 127.0.0.1:{tls_port}
    default_backend {tls_backend}

backend {tls_backend}
    mode tcp
    balance roundrobin
    default-server check inter {interval_ms}ms fall {fall} rise {rise}
{servers}
"""
HTTP_BACKEND, TLS_BACKEND = "edges", "edges_tls"


@dataclass(frozen=True)
class Checks:
    """How HAProxy checks each edge: a node is out after ``fall`` failed checks ``interval_ms`` apart."""

    interval_ms: int = 250
    fall: int = 2
    rise: int = 2


@dataclass(frozen=True)
class EdgeAddress:
    """Where one node's edge listens."""

    host: str
    http_port: int
    https_port: int | None = None
    """None: TLS is off."""


@dataclass(frozen=True)
class ServerState:
    status: str  # UP, DOWN, "UP 1/2" (going down), "DOWN 1/2" (coming up), ...
    went_down: int  # UP -> DOWN transitions since HAProxy started (chkdown)
    sessions: int  # connections (TCP mode) or requests (HTTP mode) the server has now (scur)


class LoadBalancer:
    name = "haproxy"

    def __init__(
        self,
        edges: dict[str, EdgeAddress],
        port: int,
        health_path: str,
        timeout_s: float,
        checks: Checks = Checks(),
        tls_port: int | None = None,
    ) -> None:
        """``edges``: name -> where each node's edge listens; HAProxy on ``port``, and on ``tls_port``
        passing TLS through to each edge's HTTPS port."""
        if shutil.which("haproxy") is None:
            raise RuntimeError("no haproxy on this machine: bash scripts/provision.sh load-balancer installs it")
        self.port = port
        self.tls_port = tls_port
        self.checks = checks
        self._dir = Path(tempfile.mkdtemp(prefix="szd-haproxy-"))
        self._socket = self._dir / "stats.sock"
        checked = {"interval_ms": checks.interval_ms, "fall": checks.fall, "rise": checks.rise}
        config = CONFIG.format(
            socket=self._socket,
            timeout_s=int(timeout_s) + 1,
            health_path=health_path,
            port=port,
            http_backend=HTTP_BACKEND,
            servers="\n".join(f"    server {name} {edge.host}:{edge.http_port}" for name, edge in edges.items()),
            **checked,
        )
        if tls_port is not None:
            if any(edge.https_port is None for edge in edges.values()):
                raise ValueError(f"TLS passed through to edges without an HTTPS port: {edges}")
            config += TLS_CONFIG.format(
                tls_port=tls_port,
                tls_backend=TLS_BACKEND,
                servers="\n".join(
                    f"    server {name} {edge.host}:{edge.https_port} check port {edge.http_port}"
                    for name, edge in edges.items()
                ),
                **checked,
            )
        (self._dir / "haproxy.cfg").write_text(config)
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self._dir / "haproxy.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def tls_url(self, name: str = "127.0.0.1") -> str:
        """HTTPS through the TLS port, by ``name``: what the clients check the certificate for (an
        address or a name of 127.0.0.1, where HAProxy listens)."""
        assert self.tls_port is not None, "this load balancer passes no TLS through"
        return f"https://{name}:{self.tls_port}/"

    def __enter__(self) -> Self:
        check = subprocess.run(["haproxy", "-c", "-q", "-f", str(self._dir / "haproxy.cfg")], capture_output=True)
        if check.returncode:
            raise RuntimeError(f"haproxy refused its config: {check.stderr.decode(errors='replace')}")
        # -db: stay in the foreground, the test's child, stopped with it.
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                ["haproxy", "-db", "-f", str(self._dir / "haproxy.cfg")], stdout=log, stderr=subprocess.STDOUT
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)

    def states(self) -> dict[str, ServerState]:
        """Each server's state as HAProxy sees it now, in HTTP mode ("name") and passing TLS through ("name tls")."""
        with socket.socket(socket.AF_UNIX) as stats:
            stats.settimeout(5)
            stats.connect(str(self._socket))
            stats.sendall(b"show stat\n")
            answer = b""
            while chunk := stats.recv(65536):
                answer += chunk
        rows = csv.DictReader(answer.decode().lstrip("# ").splitlines())
        suffix = {HTTP_BACKEND: "", TLS_BACKEND: " tls"}
        return {
            row["svname"] + suffix[row["pxname"]]: ServerState(
                row["status"], int(row["chkdown"] or 0), int(row["scur"] or 0)
            )
            for row in rows
            if row["pxname"] in suffix and row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def wait_up(self, only: Collection[str] | None = None, timeout: float = 30.0) -> None:
        """Until every server is UP, or only the servers named in ``only`` and every other one DOWN."""
        deadline = time.monotonic() + timeout
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"haproxy exited: {self._log.read_text(errors='replace')}")
            try:
                states = self.states()
            except OSError:
                states = {}  # not listening on its socket yet
            wanted = {name: "UP" if only is None or name in only else "DOWN" for name in states}
            if states and all(state.status == wanted[name] for name, state in states.items()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"haproxy: not {wanted} after {timeout:g}s: {states}")
            time.sleep(0.1)

    def evidence(self) -> list[str]:
        """For an assertion message: each edge's state, and what HAProxy logged (its checks' verdicts)."""
        states = [f"{name}: {state}" for name, state in self.states().items()]
        return states + self._log.read_text(errors="replace").splitlines()[-30:]
