#!/usr/bin/env python3
"""Stand-in for the tutorial's web app (windowforsun/test-web), standard library only.

    GET|POST /                   -> "<name>, current time : <epoch ms>, version : <version>"
    GET|POST /<ms>               -> the same, after sleeping <ms> milliseconds
    GET      /healthcheck[/<ms>] -> "ok" (always 500 when the version is "bad")

The version is in every answer so a client can see which side of a rollout served it.
On SIGTERM/SIGINT the app closes its listening socket at once, lets in-flight
requests finish (answering them with "Connection: close") and exits 0: the
behaviour a zero-downtime rollout relies on.
"""

import argparse
import os
import re
import signal
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BAD_VERSION = "bad"
ROUTE = re.compile(r"^/(?:(?P<health>healthcheck)(?:/(?P<hdelay>\d+))?|(?P<delay>\d+))?$")


def log(message):
    print(f"testapp: {message}", file=sys.stderr, flush=True)


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so nginx's upstream keepalive connections get reused, as with the real app.
    protocol_version = "HTTP/1.1"
    # Bounds how long a silent client can hold a thread; above nginx's 60 s keepalive_timeout.
    timeout = 75
    # Headers and body go out in separate writes; with Nagle on, the body would wait
    # for the client's delayed ACK (~40 ms) and cap throughput under load tests.
    disable_nagle_algorithm = True
    # Buffer the response and send headers and body in one write (handle_one_request
    # flushes): a task killed mid-answer could otherwise leave nginx holding headers
    # it already relayed, and nginx can retry nothing once bytes reached the client.
    wbufsize = 64 * 1024

    def handle(self):
        try:
            while True:
                self.server.mark_idle(self.connection)
                self.handle_one_request()
                if self.close_connection:
                    break
        finally:
            self.server.forget(self.connection)

    def parse_request(self):
        # The request line has arrived: from here on, a drain must wait for this connection.
        self.server.mark_busy(self.connection)
        return super().parse_request()

    def do_GET(self):
        match = ROUTE.match(self.path.split("?", 1)[0])
        if match is None:
            self.reply(404, "not found")
            return
        delay = match["hdelay"] or match["delay"]
        if delay:
            time.sleep(int(delay) / 1000)
        app = self.server.app
        if match["health"]:
            if app.version == BAD_VERSION:
                self.reply(500, "unhealthy")
            else:
                self.reply(200, "ok")
        else:
            now_ms = time.time_ns() // 1_000_000
            self.reply(200, f"{app.name}, current time : {now_ms}, version : {app.version}")

    def do_POST(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            # Not worth decoding chunks for a body we discard: just don't reuse the connection.
            self.close_connection = True
        else:
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65536))
                if not chunk:
                    break
                remaining -= len(chunk)
        self.do_GET()

    def reply(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-App-Name", self.server.app.name)
        self.send_header("X-App-Version", self.server.app.version)
        if self.close_connection or self.server.draining:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":
            # HTTP/1.0 clients that asked for keep-alive (ab -k) need to hear it granted.
            self.send_header("Connection", "keep-alive")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        # One line per request would drown the start/stop lines under load tests.
        pass

    def log_error(self, format, *args):
        log(format % args)


class AppServer(ThreadingHTTPServer):
    # ThreadingMixIn only tracks (and server_close only joins) non-daemon threads.
    daemon_threads = False

    def __init__(self, address, app):
        self.app = app
        self.draining = False
        self._lock = threading.Lock()
        self._idle = set()
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        # Clients that hang up mid-exchange (load generators, killed probes) are routine.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def server_bind(self):
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) that can hang
        # for seconds on machines without DNS; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def mark_idle(self, conn):
        """Note that a connection waits for its next request line."""
        with self._lock:
            if not self.draining:
                self._idle.add(conn)
                return
        self._stop_reading(conn)

    def mark_busy(self, conn):
        with self._lock:
            self._idle.discard(conn)

    def forget(self, conn):
        self.mark_busy(conn)

    def drain(self):
        """Finish in-flight requests; wake idle keep-alive connections so they close now."""
        with self._lock:
            self.draining = True
            idle = list(self._idle)
        for conn in idle:
            self._stop_reading(conn)
        # ThreadingMixIn.server_close joins every handler thread.
        self.server_close()

    @staticmethod
    def _stop_reading(conn):
        # Linux still hands out what the client already sent, then reports EOF: a
        # request that raced the drain gets its answer, an idle connection closes.
        try:
            conn.shutdown(socket.SHUT_RD)
        except OSError:
            pass


class App:
    def __init__(self, name, version):
        self.name = name
        self.version = version


def parse_args(argv=None):
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--host", default="0.0.0.0", help="bind address")
    parser.add_argument("--port", type=int, default=int(env.get("PORT", "8080")))
    parser.add_argument("--name", default=env.get("APP_NAME") or socket.gethostname(),
                        help="label used in answers (default: $APP_NAME or the hostname)")
    parser.add_argument("--version", default=env.get("APP_VERSION") or "v1",
                        help=f"version reported in answers; '{BAD_VERSION}' never passes /healthcheck")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    app = App(args.name, args.version)
    server = AppServer((args.host, args.port), app)
    received = []

    def on_signal(signum, _frame):
        if not received:
            received.append(signal.Signals(signum).name)
            # shutdown() waits for serve_forever() to return, which runs in this
            # (the main) thread: call it from another one.
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    log(f"name={app.name} version={app.version} listening on {args.host}:{server.server_port}")
    # A short poll interval bounds how long the listening socket stays open after a signal.
    server.serve_forever(poll_interval=0.05)
    server.socket.close()
    started = time.monotonic()
    server.drain()
    log(f"{received[0] if received else 'stop'}: stopped accepting, drained in "
        f"{time.monotonic() - started:.2f}s, exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
