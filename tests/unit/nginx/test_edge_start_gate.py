"""The edge's start gate, run by each real POSIX shell an nginx image has as /bin/sh (dash, BusyBox's
ash) with getent and nginx stood in for: the shell logic only; tests/e2e and tests/cluster run it in
the edge against Docker's DNS."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from swarm_zero_downtime.components.nginx_service import NGINX_HEALTH
from swarm_zero_downtime.nginx.edge_start_gate import BOUND, LOG_PREFIX, gate_waited, start_gate_command
from swarm_zero_downtime.swarm.values import SECOND, Duration
from tests.support.edge_command import NAME, Shell, stand_in_env


def run_gate(
    shell: Shell, tmp_path: Path, answers: list[int] | None, bound: Duration = BOUND
) -> tuple[str, str, float]:
    """Run the gate with getent answering ``answers`` (tests/support/edge_command.py). (stdout, stderr, seconds)."""
    env = stand_in_env(tmp_path, answers, shell=shell)
    started = time.monotonic()
    done = subprocess.run(
        shell.runs(start_gate_command(NAME, bound)),
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout, done.stderr, time.monotonic() - started


def test_nginx_starts_at_once_when_the_tier_is_known(shell, tmp_path):
    out, err, _ = run_gate(shell, tmp_path, [2])
    assert out == "nginx -g daemon off;\n"
    # Whole seconds of the clock (`date +%s`): 1 when the gate started just before a second turned.
    waited = 1 if "after 1s" in err else 0
    assert err == f"{LOG_PREFIX} 2 L7 tasks known after {waited}s (waits for 2, at most 10s)\n"
    assert gate_waited("nginx: started\n" + err) == (2, waited)
    assert (tmp_path / "calls").read_text().strip() == "2"  # one look, one to log: no sleep


def test_nginx_waits_until_the_dns_knows_two_l7_tasks(shell, tmp_path):
    out, err, _ = run_gate(shell, tmp_path, [0, 1, 1, 1, 2])
    assert out == "nginx -g daemon off;\n"
    assert err.startswith(f"{LOG_PREFIX} 2 L7 tasks known after ")
    # Each look but the last is followed by a 0.2 s sleep: 4 of them, and one to log.
    assert (tmp_path / "calls").read_text().strip() == "6"


def test_nginx_starts_after_the_bound_with_what_the_dns_knows(shell, tmp_path):
    out, err, seconds = run_gate(shell, tmp_path, [1], bound=Duration(2 * SECOND))
    assert out == "nginx -g daemon off;\n"
    assert err.startswith(f"{LOG_PREFIX} 1 L7 tasks known after 2s")
    # Counted in whole seconds of the clock: between one and two seconds.
    assert 1 < seconds < 4


def test_without_getent_nginx_starts_at_once_and_says_why(shell, tmp_path):
    out, err, _ = run_gate(shell, tmp_path, None)
    assert out == "nginx -g daemon off;\n"
    assert err == f"{LOG_PREFIX} no getent in this image: nginx starts without waiting for the L7 tier\n"
    assert gate_waited(err) is None


def test_a_gated_edge_never_looks_unhealthy_to_swarm():
    # Swarm would kill an edge whose checks fail for its whole health window.
    assert NGINX_HEALTH.time_to_unhealthy > BOUND
