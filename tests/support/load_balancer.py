"""A real load balancer in front of the nodes' edges: Debian's HAProxy, as a user's would be.

HTTP mode with active health checks of the edge's public health path on each
node (`option httpchk`, which the edge answers whatever the Host), round robin,
and HAProxy's defaults otherwise (`retries 3` on a failed connect to the same
server, no redispatch, no retry of a request once sent). HAProxy runs in the
foreground as the test's child and is asked for its servers' states on its
stats socket.
"""

from __future__ import annotations

import csv
import shutil
import socket
import subprocess
import tempfile
import time
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
    default_backend edges

backend edges
    balance roundrobin
    default-server check inter {interval_ms}ms fall {fall} rise {rise}
{servers}
"""


@dataclass(frozen=True)
class Checks:
    """How HAProxy checks each edge: a node is out after ``fall`` failed checks ``interval_ms`` apart."""

    interval_ms: int = 250
    fall: int = 2
    rise: int = 2


@dataclass(frozen=True)
class ServerState:
    status: str  # UP, DOWN, "UP 1/2" (going down), "DOWN 1/2" (coming up), ...
    went_down: int  # UP -> DOWN transitions since HAProxy started (chkdown)


class LoadBalancer:
    name = "haproxy"

    def __init__(
        self, servers: dict[str, str], port: int, health_path: str, timeout_s: float, checks: Checks = Checks()
    ) -> None:
        """``servers``: name -> host:port of each node's edge."""
        if shutil.which("haproxy") is None:
            raise RuntimeError("no haproxy on this machine: bash scripts/provision.sh cluster-image installs it")
        self.port = port
        self.checks = checks
        self._dir = Path(tempfile.mkdtemp(prefix="szd-haproxy-"))
        self._socket = self._dir / "stats.sock"
        config = CONFIG.format(
            socket=self._socket,
            timeout_s=int(timeout_s) + 1,
            health_path=health_path,
            port=port,
            interval_ms=checks.interval_ms,
            fall=checks.fall,
            rise=checks.rise,
            servers="\n".join(f"    server {name} {address}" for name, address in servers.items()),
        )
        (self._dir / "haproxy.cfg").write_text(config)
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self._dir / "haproxy.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

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
        """Each server's state as HAProxy sees it now."""
        with socket.socket(socket.AF_UNIX) as stats:
            stats.settimeout(5)
            stats.connect(str(self._socket))
            stats.sendall(b"show stat\n")
            answer = b""
            while chunk := stats.recv(65536):
                answer += chunk
        rows = csv.DictReader(answer.decode().lstrip("# ").splitlines())
        return {
            row["svname"]: ServerState(row["status"], int(row["chkdown"] or 0))
            for row in rows
            if row["svname"] not in ("FRONTEND", "BACKEND")
        }

    def wait_all_up(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"haproxy exited: {self._log.read_text(errors='replace')}")
            try:
                states = self.states()
            except OSError:
                states = {}  # not listening on its socket yet
            if states and all(s.status == "UP" for s in states.values()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"haproxy: not every edge UP after {timeout:g}s: {states}")
            time.sleep(0.1)

    def evidence(self) -> list[str]:
        """For an assertion message: each edge's state, and what HAProxy logged (its checks' verdicts)."""
        states = [f"{name}: {state}" for name, state in self.states().items()]
        return states + self._log.read_text(errors="replace").splitlines()[-30:]
