"""The test app (tests/fixtures/testapp/app.py) over real HTTP on loopback."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tools.probe.websocket_client import WebSocket

from .proc_net_tcp import tcp_sockets
from .testapp_process import AppProcess, free_ports, start_testapp

BODY = re.compile(r"^(?P<name>.+), current time : (?P<ms>\d+), version : (?P<version>\S+)$")


def body(text: str) -> re.Match[str]:
    match = BODY.match(text)
    assert match, f"not the app's answer: {text!r}"
    return match


StartApp = Callable[..., AppProcess]


@pytest.fixture
def start_app() -> Iterator[StartApp]:
    apps: list[AppProcess] = []

    def start(name: str = "app-1", version: str = "v1") -> AppProcess:
        (port,) = free_ports(1)
        app = start_testapp(name, port, version=version)
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.close()


@pytest.fixture
def app(start_app: StartApp) -> AppProcess:
    return start_app("real-1", "v2")


def test_root_names_the_instance_time_and_version(app: AppProcess) -> None:
    before = time.time() * 1000
    response = requests.get(f"{app.url}/", timeout=5)
    after = time.time() * 1000

    assert response.status_code == 200
    match = BODY.match(response.text)
    assert match, response.text
    assert match["name"] == "real-1"
    assert match["version"] == "v2"
    assert before - 1 <= int(match["ms"]) <= after + 1
    assert response.headers["X-App-Name"] == "real-1"
    assert response.headers["X-App-Version"] == "v2"


def test_time_path_sleeps_that_many_milliseconds(app: AppProcess) -> None:
    started = time.monotonic()
    response = requests.get(f"{app.url}/300", timeout=5)

    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert body(response.text)["version"] == "v2"


def test_healthcheck(app: AppProcess) -> None:
    response = requests.get(f"{app.url}/healthcheck", timeout=5)
    assert (response.status_code, response.text) == (200, "ok")

    started = time.monotonic()
    response = requests.get(f"{app.url}/healthcheck/200", timeout=5)
    assert time.monotonic() - started >= 0.2
    assert (response.status_code, response.text) == (200, "ok")


@pytest.mark.parametrize("path", ["/", "/150"])
def test_post_answers_like_get(app: AppProcess, path: str) -> None:
    with requests.Session() as session:
        # Twice on one keep-alive connection: the body must have been consumed.
        for _ in range(2):
            response = session.post(f"{app.url}{path}", data=b"x" * 100_000, timeout=5)
            assert response.status_code == 200
            assert body(response.text)["name"] == "real-1"


@pytest.mark.parametrize("path", ["/nope", "/12a", "/healthcheck/x", "/healthcheckz", "/1/2", "/\u0661\u0660"])
def test_unknown_paths_are_404(app: AppProcess, path: str) -> None:
    assert requests.get(f"{app.url}{path}", timeout=5).status_code == 404


@pytest.mark.parametrize("path", ["/60001", "/healthcheck/99999999", "/" + "9" * 5000])
def test_delays_above_a_minute_are_refused_at_once(app: AppProcess, path: str) -> None:
    started = time.monotonic()
    response = requests.get(f"{app.url}{path}", timeout=5)
    assert response.status_code == 400 and "at most 60000 ms" in response.text
    assert time.monotonic() - started < 1


def test_bad_version_serves_but_never_passes_healthcheck(start_app: StartApp) -> None:
    bad = start_app("bad-1", "bad")

    response = requests.get(f"{bad.url}/", timeout=5)
    assert response.status_code == 200
    assert body(response.text)["version"] == "bad"
    assert requests.get(f"{bad.url}/healthcheck", timeout=5).status_code == 500
    assert requests.get(f"{bad.url}/healthcheck/10", timeout=5).status_code == 500


def test_keep_alive_reuses_the_connection(app: AppProcess) -> None:
    conn = http.client.HTTPConnection(app.host, app.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", "/")
            response = conn.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Connection") is None
        assert conn.sock is not None  # never closed and reopened
    finally:
        conn.close()


def unread_bytes(local_port: int, remote_port: int) -> int | None:
    """The receive queue of the IPv4 socket local_port <-> remote_port (/proc/net/tcp), None when absent."""
    for s in tcp_sockets():
        if (s.local_port, s.remote_port) == (local_port, remote_port):
            return s.receive_queue
    return None


def test_sigterm_finishes_in_flight_request_and_refuses_new_ones(app: AppProcess) -> None:
    result: dict[str, object] = {}
    conn = http.client.HTTPConnection(app.host, app.port, timeout=10)
    conn.request("GET", "/1000")
    client_port = conn.sock.getsockname()[1]
    # In flight once the app has read the request off its socket (it then sleeps 1 s in the handler).
    deadline = time.monotonic() + 5
    while unread_bytes(app.port, client_port) != 0:
        assert time.monotonic() < deadline, "the app did not read the request within 5 s"
        time.sleep(0.01)

    def slow_request() -> None:
        try:
            response = conn.getresponse()
            result["status"] = response.status
            result["version"] = body(response.read().decode())["version"]
            result["connection"] = response.getheader("Connection")
        except (OSError, http.client.HTTPException) as exc:
            result["error"] = exc

    client = threading.Thread(target=slow_request)
    client.start()

    app.terminate(wait=False)
    deadline = time.monotonic() + 0.5
    while True:  # the listening socket closes within the app's 50 ms poll interval
        try:
            socket_refused = False
            requests.get(f"{app.url}/", timeout=1)
        except requests.ConnectionError:
            socket_refused = True
        if socket_refused or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert socket_refused, "the app still accepts connections 0.5 s after SIGTERM"
    assert app.running(), "the app exited before its in-flight request finished"

    client.join(5)
    conn.close()
    assert "error" not in result, result
    assert result == {"status": 200, "version": "v2", "connection": "close"}
    assert app.wait(5) == 0
    assert "SIGTERM" in app.logs()


def test_sigterm_closes_idle_keep_alive_connections_at_once(app: AppProcess) -> None:
    conn = http.client.HTTPConnection(app.host, app.port, timeout=5)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()

        started = time.monotonic()
        assert app.terminate(timeout=5) == 0
        assert time.monotonic() - started < 1.0
    finally:
        conn.close()


def test_restart_and_kill(app: AppProcess) -> None:
    first_pid = app.pid
    app.restart()
    assert app.pid != first_pid
    assert requests.get(f"{app.url}/healthcheck", timeout=5).text == "ok"

    assert app.kill() == -9
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{app.url}/", timeout=1)


@pytest.mark.parametrize("code", [201, 404, 500, 502, 503, 599])
def test_status_path_answers_with_that_status(app: AppProcess, code: int) -> None:
    response = requests.get(f"{app.url}/status/{code}", timeout=5)
    assert response.status_code == code
    assert response.headers["X-App-Name"] == response.text.split(" answered ")[0]


@pytest.mark.parametrize("path", ["/status/600", "/status/199", "/status/50", "/status/5033"])
def test_status_outside_200_to_599_is_404(app: AppProcess, path: str) -> None:
    assert requests.get(f"{app.url}{path}", timeout=5).status_code == 404


def test_client_path_echoes_the_proxy_headers(app: AppProcess) -> None:
    response = requests.get(f"{app.url}/client", headers={"X-Real-IP": "10.1.2.3", "Host": "a.example"}, timeout=5)
    lines = response.text.splitlines()
    assert lines[:4] == ["Host: a.example", "X-Real-IP: 10.1.2.3", "X-Forwarded-For: -", "X-Forwarded-Proto: -"]
    assert len(lines) == 17 and all(line.endswith(": -") for line in lines[4:15])
    assert lines[15:] == ["Connection: keep-alive", "Upgrade: -"]


def test_env_and_cmdline_paths_show_how_the_process_runs(app: AppProcess) -> None:
    assert requests.get(f"{app.url}/env/PATH", timeout=5).text == os.environ["PATH"]
    assert requests.get(f"{app.url}/env/SZD_NEVER_SET", timeout=5).status_code == 404
    words = requests.get(f"{app.url}/cmdline", timeout=5).text.splitlines()
    assert words[0] == sys.executable and words[1].endswith("app.py"), words


def test_secret_sha256_path_hashes_the_file_name_file_points_at_never_showing_it(
    start_app: StartApp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "DB_PASSWORD"
    secret.write_bytes(b"hunter2-Pa55")
    monkeypatch.setenv("DB_PASSWORD_FILE", str(secret))  # the *_FILE convention, as the pools' tasks get it
    app = start_app()
    answer = requests.get(f"{app.url}/secret-sha256/DB_PASSWORD", timeout=5)
    assert (answer.status_code, answer.text) == (200, hashlib.sha256(b"hunter2-Pa55").hexdigest())
    # Read at each request: a rotated value is seen by the next one.
    secret.write_bytes(b"another")
    assert (
        requests.get(f"{app.url}/secret-sha256/DB_PASSWORD", timeout=5).text == hashlib.sha256(b"another").hexdigest()
    )
    assert requests.get(f"{app.url}/secret-sha256/SZD_NEVER_SET", timeout=5).status_code == 404


def test_headers_path_pads_the_answer_headers(app: AppProcess) -> None:
    response = requests.get(f"{app.url}/headers/20000", timeout=5)
    assert (response.status_code, response.headers["X-Padding"]) == (200, "x" * 20000)
    assert requests.get(f"{app.url}/headers/1000001", timeout=5).status_code == 400


def test_free_ports_are_all_different_and_bindable_on_any_address() -> None:
    # Picked one socket at a time, 200 ports repeated in 77 of 100 tries on this kernel.
    ports = free_ports(200)
    assert len(set(ports)) == len(ports)
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", ports[0]))
        second.bind(("127.0.0.2", ports[0]))


def test_ws_path_echoes_websocket_messages(app: AppProcess) -> None:
    with socket.create_connection((app.host, app.port), timeout=5) as sock:
        ws = WebSocket.open(sock, "localhost")
        ws.send_text("hello")
        assert ws.receive_text() == "hello"
        ws.close()


def test_ws_path_refuses_a_handshake_an_http10_proxy_would_send(app: AppProcess) -> None:
    # RFC 6455 asks for HTTP/1.1, and servers in use check it.
    with socket.create_connection((app.host, app.port), timeout=5) as sock:
        sock.sendall(
            b"GET /ws HTTP/1.0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: a2V5\r\n\r\n"
        )
        assert sock.recv(100).split(b" ", 2)[1] == b"400"


@pytest.mark.parametrize("path, marked", [("/events/300", True), ("/events/300/unmarked", False)])
def test_events_path_streams_its_first_event_and_ends_later(app: AppProcess, path: str, marked: bool) -> None:
    started = time.monotonic()
    with requests.get(f"{app.url}{path}", stream=True, timeout=5) as response:
        lines = response.iter_lines(chunk_size=1)
        assert next(lines) == b"data: first"
        first = time.monotonic() - started
        assert [line for line in lines if line] == [b"data: last"]
    assert response.headers["Content-Type"] == "text/event-stream"
    assert ("X-Accel-Buffering" in response.headers) == marked
    assert first < 0.3 <= time.monotonic() - started
