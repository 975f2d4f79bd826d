"""WebSocket connections held open through a deploy: how each one ended, and whether a new one opened.

Each of ``connections`` slots opens a WebSocket, pings it every
``ping_interval`` seconds and waits for the pong; when the connection ends it
records how, and opens a new one at once. A new connection that does not open
(refused, reset, no 101) is a failed open, retried after ``RETRY_S``.

How a connection ends:
- ``closed <code>``: the server sent a close frame (1001: going away, what an
  app sends its clients when it drains);
- ``dropped``: the connection closed without a close frame;
- ``reset``: the connection was reset;
- ``unanswered``: no pong within ``timeout``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .options import OptionError, is_positive
from .websocket_client import PING, PONG, Closed, HandshakeRefused, WebSocket

RETRY_S = 0.1
MAX_CONNECTIONS = 64


@dataclass(frozen=True)
class WebSocketOptions:
    url: str
    """http(s)://host[:port]/path of the WebSocket endpoint."""
    connections: int = 4
    ping_interval: float = 0.5
    timeout: float = 5.0
    ca_file: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OptionError("websocket", f"must make an http:// or https:// URL with a host, got {self.url!r}")
        if not 1 <= self.connections <= MAX_CONNECTIONS:
            raise OptionError("websockets", f"must be from 1 to {MAX_CONNECTIONS}, got {self.connections}")
        if not is_positive(self.ping_interval) or not is_positive(self.timeout):
            raise OptionError("websocket", "ping interval and timeout must be numbers greater than 0")


@dataclass(frozen=True)
class Ending:
    at_s: float
    kind: str
    held_s: float


@dataclass
class WebSocketResult:
    opened: int = 0
    failed_opens: list[tuple[float, str]] = field(default_factory=list)
    endings: list[Ending] = field(default_factory=list)
    longest_without_s: float = 0.0
    """The longest a slot waited, from the end of a connection to the next one open."""
    open_at_stop: int = 0

    @property
    def endings_by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(e.kind for e in self.endings).items()))

    @property
    def failed_opens_by_kind(self) -> dict[str, int]:
        return dict(sorted(Counter(kind for _, kind in self.failed_opens).items()))

    @property
    def dropped(self) -> int:
        """Connections that ended without the server's close frame."""
        return sum(not e.kind.startswith("closed") for e in self.endings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "failed_opens": len(self.failed_opens),
            "failed_opens_by_kind": self.failed_opens_by_kind,
            "endings": self.endings_by_kind,
            "dropped": self.dropped,
            "longest_without_s": round(self.longest_without_s, 2),
            "open_at_stop": self.open_at_stop,
        }


def format_websockets(result: WebSocketResult) -> str:
    endings = ", ".join(f"{kind} {n}" for kind, n in result.endings_by_kind.items()) or "none"
    failed = ", ".join(f"{kind} {n}" for kind, n in result.failed_opens_by_kind.items()) or "none"
    return (
        f"websockets: opened {result.opened}, failed opens {len(result.failed_opens)} ({failed});"
        f" ended: {endings}; longest without a connection {result.longest_without_s:.2f} s;"
        f" open at the end {result.open_at_stop}"
    )


class WebSocketWatch:
    """``options.connections`` WebSockets held from start() until stop(), each reopened when it ends."""

    def __init__(self, options: WebSocketOptions) -> None:
        self.options = options
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._result = WebSocketResult()
        self._threads: list[threading.Thread] = []
        self._t0 = 0.0

    def start(self) -> None:
        self._t0 = time.monotonic()
        for i in range(self.options.connections):
            thread = threading.Thread(target=self._hold, name=f"websocket-{i}", daemon=True)
            self._threads.append(thread)
            thread.start()

    @property
    def opened(self) -> int:
        with self._lock:
            return self._result.opened

    @property
    def failed_opens(self) -> int:
        with self._lock:
            return len(self._result.failed_opens)

    def stop(self) -> WebSocketResult:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.options.timeout + self.options.ping_interval + 1)
        return self._result

    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _hold(self) -> None:
        ended_at: float | None = None
        while not self._stop.is_set():
            try:
                ws = self._open()
            except HandshakeRefused as error:
                self._failed_open(f"HTTP {error.status}")
                continue
            except OSError as error:
                self._failed_open(_kind(error))
                continue
            opened_at = self._now()
            with self._lock:
                self._result.opened += 1
                if ended_at is not None:
                    self._result.longest_without_s = max(self._result.longest_without_s, opened_at - ended_at)
            kind = self._ping_until_it_ends(ws)
            ended_at = self._now()
            with contextlib.suppress(OSError):
                ws.sock.close()
            with self._lock:
                if kind is None:
                    self._result.open_at_stop += 1
                else:
                    self._result.endings.append(Ending(round(ended_at, 3), kind, round(ended_at - opened_at, 3)))

    def _failed_open(self, kind: str) -> None:
        with self._lock:
            self._result.failed_opens.append((round(self._now(), 3), kind))
        self._stop.wait(RETRY_S)

    def _open(self) -> WebSocket:
        parts = urlsplit(self.options.url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        sock: socket.socket | ssl.SSLSocket = socket.create_connection((host, port), timeout=self.options.timeout)
        try:
            if parts.scheme == "https":
                context = ssl.create_default_context(cafile=self.options.ca_file)
                # The upgrade is HTTP/1.1 only: never let the server pick h2.
                context.set_alpn_protocols(["http/1.1"])
                sock = context.wrap_socket(sock, server_hostname=host)
            return WebSocket.open(sock, parts.netloc, parts.path or "/")
        except BaseException:
            sock.close()
            raise

    def _ping_until_it_ends(self, ws: WebSocket) -> str | None:
        """How the connection ended, or None when the watch stopped first."""
        count = 0
        while not self._stop.wait(self.options.ping_interval):
            count += 1
            payload = str(count).encode()
            try:
                ws.send(PING, payload)
                while ws.receive() != (PONG, payload):
                    pass  # a message the endpoint sent meanwhile
            except Closed as closed:
                return f"closed {closed.code}"
            except TimeoutError:
                return "unanswered"
            except OSError as error:
                return _kind(error)
        with contextlib.suppress(OSError):
            ws.close()
        return None


def _kind(error: OSError) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, ConnectionResetError | BrokenPipeError):
        return "reset"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionError):
        return "dropped"  # the peer closed: no more bytes
    return type(error).__name__
