"""The Docker API behind a proxy that fails chosen requests once: a transient error on demand
(a socket proxy restarting, an SSH hiccup), for what a refresh makes of it."""

from __future__ import annotations

import http.client
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DOCKER_SOCKET = "/var/run/docker.sock"
FAULT = b'{"message":"injected: the Docker API did not answer this once"}'
HOP_BY_HOP = ("connection", "keep-alive", "transfer-encoding", "content-length")


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=300)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.socket_path)


class FaultProxy:
    """``url`` serves the Docker API of ``socket_path``; the first request whose "METHOD /path"
    matches ``fail_once`` gets a 500, per distinct path. ``failed`` lists them."""

    def __init__(self, fail_once: str, socket_path: str = DOCKER_SOCKET) -> None:
        self.pattern = re.compile(fail_once)
        self.socket_path = socket_path
        self.failed: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self._server.server_address[1]}"

    def should_fail(self, request: str) -> bool:
        path = request.split("?", 1)[0]
        with self._lock:
            if self.pattern.search(request) and path not in self.failed:
                self.failed.append(path)
                return True
        return False

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            pass

        def forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if proxy.should_fail(f"{self.command} {self.path}"):
                self.answer(500, [("Content-Type", "application/json")], FAULT)
                return
            upstream = _UnixConnection(proxy.socket_path)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
                self.answer(response.status, kept, data)
            finally:
                upstream.close()

        def answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = forward

    return Handler
