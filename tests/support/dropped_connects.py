"""Connects to one loopback address and port that are neither answered nor refused.

    with dropped_connects("127.0.0.8", port):
        ...   # a connect to 127.0.0.8:port times out, as to a task whose node died

The kernel drops the SYNs (an iptables rule in the filter table's INPUT chain,
removed on exit), so this works where a listener on every address holds the
port, which `nginx_loopback.Blackhole` (a full accept queue) cannot bind beside.
Needs root and iptables (`scripts/provision.sh test-tools`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import shutil
import subprocess
from collections.abc import Iterator

COMMENT = "swarm-zero-downtime test: dropped connects"


def _rule(address: str, port: int) -> list[str]:
    return [
        "INPUT", "-p", "tcp", "-d", address, "--dport", str(port), "--syn",
        "-m", "comment", "--comment", COMMENT, "-j", "DROP",
    ]  # fmt: skip


def _iptables(*args: str) -> None:
    iptables = shutil.which("iptables")
    if iptables is None:
        raise RuntimeError("iptables is missing: run `bash scripts/provision.sh test-tools`")
    done = subprocess.run([iptables, "-w", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"iptables {' '.join(args)} failed (needs root): {done.stderr.strip()}")


@contextlib.contextmanager
def dropped_connects(address: str, port: int) -> Iterator[None]:
    if not ipaddress.ip_address(address).is_loopback:
        raise ValueError(f"only loopback addresses are dropped, not {address}")
    _iptables("-I", *_rule(address, port))
    try:
        yield
    finally:
        _iptables("-D", *_rule(address, port))
