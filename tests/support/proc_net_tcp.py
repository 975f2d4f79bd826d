"""The IPv4 TCP sockets of this network namespace, as the kernel lists them in /proc/net/tcp.

    [s for s in tcp_sockets() if s.remote_port == 8080 and s.established]

Each line after the header: slot, local address, remote address (hex
ADDRESS:PORT each), state (hex; 01 is established), then the transmit and
receive queues (hex TX:RX), and more this module does not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC_NET_TCP = Path("/proc/net/tcp")
ESTABLISHED = "01"
TIME_WAIT = "06"


@dataclass(frozen=True)
class TcpSocket:
    local_port: int
    remote_port: int
    state: str
    """As listed: two hex digits."""
    receive_queue: int
    """Bytes received that the socket's owner has not read yet."""

    @property
    def established(self) -> bool:
        return self.state == ESTABLISHED


def tcp_sockets() -> list[TcpSocket]:
    sockets = []
    for line in PROC_NET_TCP.read_text().splitlines()[1:]:
        _, local, remote, state, queues, *_ = line.split()
        sockets.append(TcpSocket(_port(local), _port(remote), state, int(queues.split(":")[1], 16)))
    return sockets


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


def peer_ports(port: int) -> set[int]:
    """The other end's port of each TCP connection to or from ``port`` now listed, closed ones too.

    Whichever end closed a connection first lists it in TIME_WAIT for 60 s, so
    the ports new since an earlier call count the connections opened since."""
    found = set()
    for s in tcp_sockets():
        if s.local_port == port and s.remote_port != 0:
            found.add(s.remote_port)
        elif s.remote_port == port:
            found.add(s.local_port)
    return found
