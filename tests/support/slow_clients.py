"""Slow clients on loopback: connections that send a request a byte at a time or not at all,
and when the server closes each.

    crowd = Crowd()
    crowd.add(SlowClient("header-1", port, first=b"GET / HTTP/1.1\\r\\n", trickle=b"X: y\\r\\n" * 100, every=0.25))
    crowd.step(0.05)             # sends the bytes that are due, notes every close
    crowd.stop_trickling()       # from now on silent; each client's last byte is timed
    crowd.wait_closed(deadline)  # until every client is closed, or the deadline

One thread, one select loop: every wait is bounded by a deadline.
"""

from __future__ import annotations

import select
import socket
import time

from tests.support.proc_net_tcp import tcp_sockets

# Where slow clients connect from: told apart from ordinary clients and the edge.
SLOW = "127.0.0.10"


class SlowClient:
    def __init__(
        self, name: str, port: int, *, first: bytes = b"", trickle: bytes = b"", every: float = 0.0, source: str = SLOW
    ) -> None:
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
        self.opened = time.monotonic()
        if first:
            self.sock.sendall(first)
        self.last_sent = time.monotonic()
        self.sock.setblocking(False)
        self.trickle = trickle
        self.every = every
        self.closed_at: float | None = None
        self.received = b""

    def fileno(self) -> int:
        return self.sock.fileno()

    @property
    def open(self) -> bool:
        return self.closed_at is None

    def due(self, now: float) -> bool:
        return self.open and bool(self.trickle) and now >= self.last_sent + self.every

    def send_next(self) -> None:
        try:
            self.sock.send(self.trickle[:1])
        except OSError:
            return  # closed by the server: read_closed notes when
        self.trickle = self.trickle[1:]
        self.last_sent = time.monotonic()

    def read_closed(self) -> None:
        """Reads what is there; notes the close (end of stream or reset)."""
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except ConnectionResetError:
            data = b""
        if data:
            self.received += data
            return
        self.closed_at = time.monotonic()
        self.sock.close()

    def close(self) -> None:
        self.sock.close()


class Crowd:
    def __init__(self) -> None:
        self.clients: list[SlowClient] = []

    def add(self, client: SlowClient) -> SlowClient:
        self.clients.append(client)
        return client

    def step(self, timeout: float) -> None:
        """Waits at most ``timeout`` for a close or a byte that is due, and handles both."""
        now = time.monotonic()
        open_ = [c for c in self.clients if c.open]
        if not open_:
            return
        next_due = min((c.last_sent + c.every for c in open_ if c.trickle), default=now + timeout)
        readable, _, _ = select.select(open_, [], [], max(0.0, min(timeout, next_due - now)))
        for client in readable:
            client.read_closed()
        now = time.monotonic()
        for client in open_:
            if client.due(now):
                client.send_next()

    def stop_trickling(self) -> None:
        for client in self.clients:
            client.trickle = b""

    def wait_closed(self, deadline: float, clients: list[SlowClient] | None = None) -> None:
        """Until every client (of ``clients``, or all) is closed, or the deadline."""
        waited = self.clients if clients is None else clients
        while any(c.open for c in waited) and time.monotonic() < deadline:
            self.step(deadline - time.monotonic())

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def __enter__(self) -> Crowd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def established_to(port: int) -> int:
    """TCP connections over IPv4 in this network namespace, established to ``port`` on any address."""
    return sum(1 for s in tcp_sockets() if s.remote_port == port and s.established)
