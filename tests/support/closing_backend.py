"""An HTTP backend that closes a kept connection as the next request arrives on it, for loopback tests.

    with ClosingBackend("127.0.0.2", port, "app-real-1") as backend:
        ...                   # a proxy in front of it
        backend.requests      # [(connection number, its nth request, method), ...]

Every connection's first request is answered (200, keep-alive, X-App-Name
set); the next one on the same connection is read and the connection closed
unanswered. That is the race a proxy with kept connections meets when the
other end closes one (a drain, an idle timeout) just as the proxy sends on it,
made to happen every time.
"""

from __future__ import annotations

import socket
import threading
from typing import Self

ANSWERED_PER_CONNECTION = 1


class ClosingBackend:
    def __init__(self, host: str, port: int, label: str) -> None:
        self.label = label
        self.requests: list[tuple[int, int, str]] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server((host, port), reuse_port=False)
        self._listener.settimeout(0.1)
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepted = 0
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> Self:
        self._acceptor.start()
        return self

    @property
    def connections(self) -> int:
        with self._lock:
            return self._accepted

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._accepted += 1
                number = self._accepted
            thread = threading.Thread(target=self._serve, args=(conn, number), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        conn.settimeout(10)
        reader = conn.makefile("rb")
        try:
            nth = 0
            while (method := _read_request(reader)) is not None:
                nth += 1
                with self._lock:
                    self.requests.append((number, nth, method))
                if nth > ANSWERED_PER_CONNECTION:
                    return
                body = f"{self.label}\n".encode()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n"
                    + f"X-App-Name: {self.label}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
        except OSError:
            pass
        finally:
            reader.close()
            conn.close()

    def close(self) -> None:
        self._stopped.set()
        self._listener.close()
        self._acceptor.join(5)
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_request(reader) -> str | None:
    """The method of the next request (its body read and dropped), or None once the peer closed."""
    line = reader.readline()
    if not line:
        return None
    length = 0
    while (header := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    reader.read(length)
    return line.split(b" ", 1)[0].decode("ascii")
