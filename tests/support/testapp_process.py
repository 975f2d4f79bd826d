"""Run tests/fixtures/testapp/app.py on the host as a subprocess, for loopback tests.

(port,) = free_ports(1)
app = start_testapp("real-1", port, version="v2")
...                       # app.url, app.port, app.pid
app.terminate()           # SIGTERM: graceful drain, waits for exit
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "fixtures" / "testapp" / "app.py"
# Loopback only: never through an http_proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_ports(count: int) -> tuple[int, ...]:
    """`count` different TCP ports that nothing uses on any address right now (the kernel's picks).

    All sockets stay bound until the last pick: ports picked one at a time can
    repeat, and a site whose listen and health ports were the same served nginx's
    welcome page from the health server (one CI run in about twenty)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("0.0.0.0", 0))
        return tuple(sock.getsockname()[1] for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()


class AppProcess:
    """One test app process; restart() brings it back on the same port."""

    def __init__(
        self, name: str, port: int, version: str = "v1", host: str = "127.0.0.1", python: str = sys.executable
    ) -> None:
        self.name = name
        self.port = port
        self.version = version
        self.host = host
        self.python = python
        self.proc: subprocess.Popen[bytes] | None = None
        fd, self._log_path = tempfile.mkstemp(prefix=f"testapp-{name}-", suffix=".log")
        os.close(fd)
        self._procs: list[subprocess.Popen[bytes]] = []
        # A test that never calls close() must still leave no process or log behind.
        self._cleanup = weakref.finalize(self, _cleanup, self._procs, self._log_path)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    def start(self, timeout: float = 10.0) -> AppProcess:
        """Start the app and return once /healthcheck answers (any status: "bad" answers 500)."""
        if self.running():
            raise RuntimeError(f"testapp {self.name} is already running (pid {self.pid})")
        # Append mode: the log survives restarts and reading it never moves the writer.
        with open(self._log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    self.python,
                    str(APP),
                    "--host",
                    self.host,
                    "--port",
                    str(self.port),
                    "--name",
                    self.name,
                    "--version",
                    self.version,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self._procs.append(self.proc)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"testapp {self.name} exited with {self.proc.returncode}:\n{self.logs()}")
            if self._answers():
                return self
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError(
                    f"testapp {self.name} did not answer on {self.url} within {timeout}s:\n{self.logs()}"
                )
            time.sleep(0.02)

    def _answers(self) -> bool:
        try:
            with _DIRECT.open(f"{self.url}/healthcheck", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, wait: bool = True, timeout: float = 15.0) -> int | None:
        """Send SIGTERM (graceful drain); with wait, return the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout) if wait else None

    def kill(self) -> int | None:
        """SIGKILL: the app dies mid-request, like a crashed task."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait()

    def wait(self, timeout: float = 15.0) -> int:
        assert self.proc is not None, "not started"
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def restart(self, timeout: float = 10.0) -> AppProcess:
        self.terminate()
        return self.start(timeout)

    def logs(self) -> str:
        """What the app wrote to stdout/stderr so far."""
        try:
            return Path(self._log_path).read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def close(self) -> None:
        """Kill the app and delete its log."""
        self._cleanup()

    def __enter__(self) -> AppProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cleanup(procs: list[subprocess.Popen[bytes]], log_path: str) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    Path(log_path).unlink(missing_ok=True)


def start_testapp(
    name: str, port: int, version: str = "v1", host: str = "127.0.0.1", timeout: float = 10.0
) -> AppProcess:
    """Start tests/fixtures/testapp/app.py and wait until it answers; use as a context manager or call terminate()/kill()."""
    return AppProcess(name, port, version=version, host=host).start(timeout)
