"""The edge's drain (edgeDrain), run by each real POSIX shell an nginx image has as /bin/sh (dash,
BusyBox's ash) with getent and nginx stood in for: the shell logic only; tests/nginx/test_edge_drain.py
has a real nginx answer 503 on the marker."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from swarm_zero_downtime.nginx.edge_drain import LOG_PREFIX, drain_tail
from swarm_zero_downtime.nginx.edge_start_gate import NGINX, start_gate_command
from swarm_zero_downtime.swarm.values import MILLISECOND, SECOND, Duration
from tests.support.edge_command import DEFAULT_SIGNALS, NAME, Shell, stand_in_env
from tests.support.waiting import until

DRAIN = Duration(SECOND)
# What the stand-in exits with on QUIT: not 0, so the shell is seen passing it on.
QUIT_STATUS = 3


def stand_in_nginx(folder: Path) -> str:
    """An nginx that writes its pid once it runs and, on QUIT, the time it got it, then exits QUIT_STATUS.
    Like nginx it sets its own QUIT handler: the shell starts it with QUIT ignored."""
    return f"""#!{sys.executable}
import os, signal, sys, time
from pathlib import Path

def stop(signum, frame):
    Path({str(folder / "quit")!r}).write_text(repr(time.monotonic()))
    sys.exit({QUIT_STATUS})

signal.signal(signal.SIGQUIT, stop)
# Written whole, then renamed: the test reads it as soon as it is there.
Path({str(folder / "nginx.pid.new")!r}).write_text(f"{{os.getpid()}} {{' '.join(sys.argv[1:])}}")
os.replace({str(folder / "nginx.pid.new")!r}, {str(folder / "nginx.pid")!r})
while True:
    signal.pause()
"""


class Edge:
    def __init__(self, folder: Path, proc: subprocess.Popen[str]) -> None:
        self.folder = folder
        self.proc = proc
        self.marker = folder / "edge-draining"

    @property
    def nginx_pid(self) -> int:
        return int((self.folder / "nginx.pid").read_text().split()[0])

    def exited(self, timeout: float = 10.0) -> tuple[int, str]:
        _, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, err


@contextmanager
def running_edge(shell: Shell, tmp_path: Path) -> Iterator[Edge]:
    """The edge's command with a drain of DRAIN, once its nginx runs."""
    env = stand_in_env(tmp_path, [2], stand_in_nginx(tmp_path), shell)
    command = shell.runs(start_gate_command(NAME, drain=DRAIN, marker=str(tmp_path / "edge-draining")))
    proc = subprocess.Popen(
        [*DEFAULT_SIGNALS, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    edge = Edge(tmp_path, proc)
    try:
        until(lambda: (tmp_path / "nginx.pid").is_file(), "the stand-in nginx started")
        yield edge
    finally:
        for pid in (proc.pid, edge.nginx_pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.communicate(timeout=10)


@pytest.mark.parametrize("stop_signal", [signal.SIGQUIT, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_marks_the_edge_draining_and_stops_nginx_after_the_drain(shell, tmp_path, stop_signal):
    with running_edge(shell, tmp_path) as edge:
        assert (tmp_path / "nginx.pid").read_text().endswith(" -g daemon off;")
        assert not edge.marker.exists()
        signalled = time.monotonic()
        edge.proc.send_signal(stop_signal)
        marked = until(edge.marker.exists, "the marker file")
        # nginx serves on while the load balancer takes the node out.
        assert marked - signalled < DRAIN.seconds / 2
        assert not (tmp_path / "quit").exists() and edge.proc.poll() is None
        status, err = edge.exited()
        quit_at = float((tmp_path / "quit").read_text())
        assert quit_at - signalled >= DRAIN.seconds
        assert status == QUIT_STATUS
        assert err.endswith(f"{LOG_PREFIX} 1s before nginx stops\n"), err


def test_a_second_signal_does_not_cut_the_drain_short(shell, tmp_path):
    with running_edge(shell, tmp_path) as edge:
        signalled = time.monotonic()
        edge.proc.send_signal(signal.SIGQUIT)
        until(edge.marker.exists, "the marker file")
        edge.proc.send_signal(signal.SIGTERM)
        status, err = edge.exited()
        assert float((tmp_path / "quit").read_text()) - signalled >= DRAIN.seconds
        assert status == QUIT_STATUS
        assert err.count(LOG_PREFIX) == 1, err


def test_an_nginx_that_dies_ends_the_edge_at_once_without_a_drain(shell, tmp_path):
    with running_edge(shell, tmp_path) as edge:
        killed = time.monotonic()
        os.kill(edge.nginx_pid, signal.SIGKILL)
        status, _ = edge.exited()
        # Swarm's restart policy replaces it, as an edge without a drain.
        assert time.monotonic() - killed < DRAIN.seconds
        assert status == 128 + signal.SIGKILL
        assert not edge.marker.exists()


def test_a_marker_left_from_before_is_removed_at_start(shell, tmp_path):
    (tmp_path / "edge-draining").write_text("")
    with running_edge(shell, tmp_path) as edge:
        assert not edge.marker.exists()


def test_without_a_drain_the_command_is_the_one_every_deployed_edge_runs():
    # A changed command restarts every edge of every stack at its next `pulumi up`:
    # the hash of the command as released before edgeDrain existed.
    command = start_gate_command(NAME)
    assert command == start_gate_command(NAME, drain=Duration(0))
    assert command[2].endswith(f"\nexec {NGINX}\n")
    released = "e0f011166b4500178df04248c4166747e29e08ae3155b0f0adde0edb89819f96"
    assert hashlib.sha256("\0".join(command).encode()).hexdigest() == released


@pytest.mark.parametrize("drain", [Duration(0), Duration(1500 * MILLISECOND)], ids=["0s", "1.5s"])
def test_a_drain_is_whole_seconds_above_zero(drain):
    # POSIX sleep takes whole seconds; settings allow no other (settings/nginx.py).
    with pytest.raises(ValueError, match="whole number of seconds above 0"):
        drain_tail(NGINX, drain)
