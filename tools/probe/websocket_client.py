"""A minimal WebSocket client (RFC 6455) over a socket the caller opened: the
handshake, short frames sent masked (as a client must), and frames read back.

    sock = socket.create_connection(("127.0.0.1", port))
    ws = WebSocket.open(sock, host="app.example.com")   # raises HandshakeRefused unless 101
    ws.send_text("hello"); ws.receive_text()            # an echoing endpoint answers it
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import ssl
from dataclasses import dataclass

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
# RFC 6455 7.4.1: the endpoint is going away (a server shutting down).
GOING_AWAY = 1001
NO_STATUS = 1005


class HandshakeRefused(AssertionError):
    def __init__(self, status: int, head: str) -> None:
        super().__init__(f"WebSocket handshake answered {status}, not 101:\n{head}")
        self.status = status


class Closed(ConnectionError):
    """The server sent a close frame; ``code`` is its status (1005 when it gave none)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"closed by the server with status {code}")
        self.code = code


def _read_exactly(sock: socket.socket | ssl.SSLSocket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {size} bytes")
        data += chunk
    return data


@dataclass
class WebSocket:
    sock: socket.socket | ssl.SSLSocket
    headers: dict[str, str]
    """The 101 answer's headers, names lowercased."""

    @classmethod
    def open(cls, sock: socket.socket | ssl.SSLSocket, host: str, path: str = "/ws") -> WebSocket:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        # One byte at a time: nothing after the header may be consumed here.
        while not head.endswith(b"\r\n\r\n"):
            head += _read_exactly(sock, 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        if status != 101:
            raise HandshakeRefused(status, head.decode("latin-1"))
        headers = {name.lower(): value for name, _, value in (line.partition(": ") for line in lines if line)}
        expected = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            raise HandshakeRefused(status, f"a wrong Sec-WebSocket-Accept in {headers}")
        return cls(sock, headers)

    def send(self, opcode: int, payload: bytes = b"") -> None:
        if len(payload) >= 126:
            raise ValueError("short frames only")
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def send_text(self, text: str) -> None:
        self.send(TEXT, text.encode())

    def receive(self) -> tuple[int, bytes]:
        """The next frame (opcode, payload); Closed when it is the server's close frame."""
        first, second = _read_exactly(self.sock, 2)
        if second & 0x80:
            raise ConnectionError("a masked frame: a server's frame never is")
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(_read_exactly(self.sock, 2), "big")
        elif length == 127:
            length = int.from_bytes(_read_exactly(self.sock, 8), "big")
        opcode, payload = first & 0x0F, _read_exactly(self.sock, length)
        if opcode == CLOSE:
            raise Closed(int.from_bytes(payload[:2], "big") if len(payload) >= 2 else NO_STATUS)
        return opcode, payload

    def receive_text(self) -> str:
        opcode, payload = self.receive()
        if opcode != TEXT:
            raise ConnectionError(f"opcode {opcode}, not a text frame")
        return payload.decode()

    def close(self) -> None:
        try:
            self.send(CLOSE)
        finally:
            self.sock.close()
