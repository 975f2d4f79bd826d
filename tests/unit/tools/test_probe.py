"""The deploy probe against a real HTTP server on loopback."""

from __future__ import annotations

import ast
import contextlib
import importlib.util
import io
import json
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import require
from tests.support.testapp_process import free_ports
from tools.probe import Probe, ProbeOptions, ProbeResult, Sample, format_summary, run_probe
from tools.probe.cli import main

REPO = Path(__file__).resolve().parents[3]
PROBE_PACKAGE = REPO / "tools" / "probe"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as nginx speaks to clients
    server: _AppServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections.add(self.connection)
            self.server.opened += 1

    def finish(self) -> None:
        with self.server.lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._route()

    def _route(self) -> None:
        with self.server.lock:
            self.server.methods[self.command] += 1
            self.server.hits += 1
            hit = self.server.hits
        path = self.path
        if path == "/real":
            self._reply(200, "app-real-1, hello")
        elif path == "/backup":
            self._reply(200, "app-backup-1, hello")
        elif path == "/flip":
            self._reply(200, f"app-{self.server.pool}-1, hello")
        elif path == "/header":
            self._reply(200, "hello", {"X-Pool": "app-backup-2"})
        elif path == "/plain":
            self._reply(200, "hello")
        elif path == "/mixed":  # cycles through 200, 404, 502, 503
            self._reply((200, 404, 502, 503)[hit % 4], "app-real-1, mixed")
        elif path.startswith("/status/"):
            self._reply(int(path.removeprefix("/status/")), "app-real-1, error")
        elif path.startswith("/sleep/"):
            time.sleep(int(path.removeprefix("/sleep/")) / 1000)
            self._reply(200, "app-real-1, slept")
        elif path == "/reset":  # RST instead of an answer
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif path == "/truncated":  # promises 100 bytes, sends 3, closes
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"app")
            self.close_connection = True
        else:
            self._reply(404, "no such path")

    def _reply(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _AppServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.opened = 0
        self.hits = 0
        self.methods: Counter[str] = Counter()
        self.pool = "backup"
        # A short poll keeps shutdown() quick: every test stops a server.
        self._thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def stop(self) -> None:
        """Stops listening and drops open keep-alive connections, like a killed container."""
        self.shutdown()
        self.server_close()
        with self.lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def server() -> Iterator[_AppServer]:
    app = _AppServer()
    yield app
    app.stop()


@pytest.fixture
def closed_port_url() -> str:
    (port,) = free_ports(1)
    return f"http://127.0.0.1:{port}/real"


def _run(url: str, duration: float = 0.6, **options: object) -> ProbeResult:
    return run_probe(ProbeOptions(url=url, concurrency=2, **options), duration)  # type: ignore[arg-type]


def _cli(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse exits on bad arguments
        return int(exc.code or 0)


# --- counting and classification -------------------------------------------------


def test_successes_are_counted_and_attributed_to_the_pool_in_the_body(server: _AppServer) -> None:
    result = _run(server.url("/real"))

    assert result.sent > 10
    assert (result.ok, result.failed) == (result.sent, 0)
    assert result.by_pool == {"real": result.sent}
    assert result.failures_by_kind == {}
    p50, p99, top = result.latency_ms(50), result.latency_ms(99), result.latency_ms(100)
    assert p50 is not None and p99 is not None and top is not None
    assert 0 < p50 <= p99 <= top < 1000


def test_answers_matching_no_pool_count_as_unknown(server: _AppServer) -> None:
    assert _run(server.url("/plain")).by_pool.keys() == {"unknown"}


def test_pool_is_read_from_a_header_when_asked(server: _AppServer) -> None:
    from_header = _run(server.url("/header"), pool_header="X-Pool")
    from_body = _run(server.url("/header"))

    assert from_header.by_pool == {"backup": from_header.sent}
    assert from_body.by_pool == {"unknown": from_body.sent}


def test_http_errors_are_failures_counted_by_code_and_name_no_pool(server: _AppServer) -> None:
    result = _run(server.url("/mixed"))

    kinds = result.failures_by_kind
    assert list(kinds) == ["HTTP 404", "HTTP 502", "HTTP 503"]
    assert result.failed == sum(kinds.values()) == result.sent - result.ok
    # Error bodies name app-real-1 too, but only successes are attributed to a pool.
    assert result.by_pool == {"real": result.ok}
    assert abs(result.ok - result.sent / 4) <= 2


def test_connection_refused_once_the_server_is_gone(server: _AppServer) -> None:
    probe = Probe(ProbeOptions(url=server.url("/real"), concurrency=2))
    probe.start()
    time.sleep(0.5)
    server.stop()
    time.sleep(0.5)
    result = probe.stop()

    assert result.window(0, 0.4).failed == 0
    assert result.window(0, 0.4).ok > 0
    tail = result.last(0.3)
    assert tail.sent > 0
    assert tail.failures_by_kind == {"connection refused": tail.sent}


def test_connection_reset_by_the_server(server: _AppServer) -> None:
    result = _run(server.url("/reset"))

    assert result.sent > 0
    assert result.failures_by_kind == {"connection reset": result.sent}


def test_read_timeout_when_the_answer_is_slower_than_the_timeout(server: _AppServer) -> None:
    result = _run(server.url("/sleep/1000"), duration=0.5, timeout=0.2)

    assert result.sent >= 2
    assert result.failures_by_kind == {"read timeout": result.sent}


def test_connect_timeout_when_the_listener_takes_no_more_connections() -> None:
    # A listener that never accepts, its queue filled: Linux drops further SYNs,
    # so a connect neither succeeds nor is refused.
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        # Backlog 0: the queue is full with one connection in it.
        with socket.create_connection(listener.getsockname(), timeout=2):
            result = _run(url, duration=0.5, timeout=0.2)

    assert result.sent >= 2
    assert result.failures_by_kind == {"connect timeout": result.sent}


@pytest.fixture
def dripping_url() -> Iterator[str]:
    """A server that answers a byte a second: each read is quick, the answer never ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            while not stop.wait(1.0):
                try:
                    conn.sendall(b"x")
                except OSError:
                    return

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed: the test is over
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    listener.close()


def test_stop_returns_in_bounded_time_against_a_server_that_drips(dripping_url: str) -> None:
    probe = Probe(ProbeOptions(url=dripping_url, concurrency=2, timeout=1.5))
    probe.start()
    time.sleep(0.5)
    stopping = time.monotonic()
    result = probe.stop()
    took = time.monotonic() - stopping

    # The timeout plus one second of grace, and some slack for a busy machine.
    assert took < 1.5 + 1.0 + 1.0, took
    # Each worker's request never ended: both count as read timeouts, not as nothing.
    assert result.sent == 2
    assert result.failures_by_kind == {"read timeout": 2}


def test_a_body_cut_short_is_another_connection_error(server: _AppServer) -> None:
    result = _run(server.url("/truncated"))

    assert result.sent > 0
    assert result.failures_by_kind == {"other connection error": result.sent}


# --- load shape ------------------------------------------------------------------


def test_rate_caps_total_requests_per_second(server: _AppServer) -> None:
    result = run_probe(ProbeOptions(url=server.url("/real"), concurrency=4, rate=20), 1.0)

    assert 18 <= result.sent <= 22


def test_each_worker_keeps_its_connection_alive(server: _AppServer) -> None:
    result = _run(server.url("/real"))

    assert result.sent > 20
    assert server.opened == 2


def test_slow_path_gets_its_own_share_of_workers(server: _AppServer) -> None:
    options = ProbeOptions(url=server.url("/real"), concurrency=4, slow_path="/sleep/300")
    result = run_probe(options, 1.0)

    slow = [s for s in result.samples if s.latency_ms >= 300]
    # One worker of four (default share 0.25) sends back-to-back 300 ms requests.
    assert options.slow_workers == 1
    assert 3 <= len(slow) <= 4
    assert len(result.samples) - len(slow) > 20
    assert result.failed == 0


def test_post_method_is_sent(server: _AppServer) -> None:
    result = _run(server.url("/real"), method="POST")

    assert result.ok > 0
    assert set(server.methods) == {"POST"}


# --- result views ----------------------------------------------------------------


def test_window_and_last_show_which_pool_answered_when(server: _AppServer) -> None:
    probe = Probe(ProbeOptions(url=server.url("/flip"), concurrency=2))
    probe.start()
    time.sleep(0.6)
    server.pool = "real"
    time.sleep(0.8)
    result = probe.stop()

    assert result.window(0, 0.5).by_pool.keys() == {"backup"}
    assert result.last(0.6).by_pool.keys() == {"real"}
    assert result.by_pool.keys() == {"backup", "real"}


def _sample(t: float, latency_ms: float, failure: str | None = None, pool: str | None = "real") -> Sample:
    return Sample(t, latency_ms, failure, None if failure else pool)


def test_timeline_percentiles_and_json_from_known_samples() -> None:
    samples = [_sample(0.1 * i, float(i + 1)) for i in range(10)]  # second 0: real, 1..10 ms
    samples += [_sample(1.2, 50.0, pool="backup"), _sample(1.5, 3.0, "connection refused")]
    samples += [_sample(2.0 + 0.01 * i, 4.0, "HTTP 502") for i in range(20)]  # second 2: failures only
    result = ProbeResult(ProbeOptions(url="http://127.0.0.1/"), 1_700_000_000.0, 3.0, samples)

    assert (result.sent, result.ok, result.failed) == (32, 11, 21)
    assert result.failures_by_kind == {"connection refused": 1, "HTTP 502": 20}
    assert result.by_pool == {"backup": 1, "real": 10}
    assert result.percentiles == {"p50": 6.0, "p95": 50.0, "p99": 50.0, "max": 50.0}
    assert [(s.t, s.sent, s.ok, s.failed) for s in result.timeline] == [(0, 10, 10, 0), (1, 2, 1, 1), (2, 20, 0, 20)]
    assert result.timeline[1].pools == {"backup": 1}
    late = ProbeResult(result.options, result.started_at, 3.004, [*samples, _sample(3.002, 1.0)])
    assert [s.sent for s in late.timeline] == [10, 2, 21]  # a stop a few ms late adds no near-empty second
    assert result.last(1.0).failures_by_kind == {"HTTP 502": 20}
    assert result.failure_span_s == pytest.approx(0.69)  # 1.5 s to 2.19 s
    assert result.window(0, 1).failure_span_s == 0.0

    data = result.to_dict(failure_limit=5)
    assert data["totals"] == {"sent": 32, "ok": 11, "failed": 21}
    assert data["failures"][0] == {"t": 1.5, "kind": "connection refused"}
    assert len(data["failures"]) == 5 and data["failures_truncated"] is True
    assert data["timeline"][2] == {"t": 2, "sent": 20, "ok": 0, "failed": 20, "pools": {}, "failures": {"HTTP 502": 20}}
    assert data["started_at"] == "2023-11-14T22:13:20+00:00"
    json.dumps(data)  # serialisable as is

    text = format_summary(result)
    assert "sent 32, ok 11, failed 21" in text
    assert "failures: connection refused 1, HTTP 502 20" in text
    assert "pools: backup 1, real 10" in text


# --- command line ----------------------------------------------------------------


def test_cli_exits_0_without_failures_and_prints_the_summary(
    server: _AppServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _cli([server.url("/real"), "--duration", "0.6", "--concurrency", "2"])

    out = capsys.readouterr().out
    assert code == 0
    assert "failed 0" in out
    assert "failures: none" in out
    assert "pools: real " in out
    assert "answers per second:" in out


def test_cli_exits_1_when_failures_exceed_max_failures(server: _AppServer, capsys: pytest.CaptureFixture[str]) -> None:
    failing = [server.url("/status/503"), "--duration", "0.6", "--concurrency", "1"]

    assert _cli(failing) == 1
    assert "failures: HTTP 503 " in capsys.readouterr().out
    assert _cli([*failing, "--max-failures", "100000"]) == 0


def test_cli_writes_the_full_result_as_json(server: _AppServer, tmp_path: Path) -> None:
    out = tmp_path / "probe.json"
    argv = [server.url("/mixed"), "--duration", "0.6", "--concurrency", "2", "--json", str(out), "--quiet"]

    assert _cli([*argv, "--max-failures", "100000"]) == 0
    data = json.loads(out.read_text())
    totals = data["totals"]
    assert totals["sent"] == totals["ok"] + totals["failed"] > 0
    assert data["options"]["url"] == server.url("/mixed")
    assert set(data["failures_by_kind"]) == {"HTTP 404", "HTTP 502", "HTTP 503"}
    assert sum(data["failures_by_kind"].values()) == totals["failed"]
    assert data["by_pool"] == {"real": totals["ok"]}
    assert set(data["latency_ms"]) == {"p50", "p95", "p99", "max"}
    assert sum(second["sent"] for second in data["timeline"]) == totals["sent"]
    assert len(data["failures"]) == totals["failed"]
    assert all(0 <= f["t"] < data["duration_s"] for f in data["failures"])


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--duration", "0"], "--duration"),
        (["--duration", "-1"], "--duration"),
        (["--duration", "nan"], "--duration"),
        (["--duration", "soon"], "--duration"),
        (["--concurrency", "0"], "--concurrency"),
        (["--concurrency", "257"], "--concurrency"),
        (["--rate", "0"], "--rate"),
        (["--rate", "10001"], "--rate"),
        (["--rate", "-5"], "--rate"),
        (["--rate", "inf"], "--rate"),
        (["--method", "PUT"], "--method"),
        (["--timeout", "0"], "--timeout"),
        (["--pool-pattern", "app-("], "--pool-pattern"),
        (["--slow-path", "1000"], "--slow-path"),
        (["--slow-share", "0.5"], "--slow-share"),
        (["--slow-path", "/1000", "--slow-share", "1.5"], "--slow-share"),
        (["--max-failures", "-1"], "--max-failures"),
        (["--json", "/no/such/dir/out.json"], "--json"),
    ],
)
def test_cli_exits_2_naming_a_bad_option(
    server: _AppServer, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    argv = [server.url("/real"), "--duration", "0.6", "--concurrency", "2"]
    code = _cli([*argv, *args])

    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2
    assert f"argument {named}:" in message
    assert server.hits == 0  # rejected before any load


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "127.0.0.1:8080/", "http:///nohost"])
def test_cli_exits_2_for_a_url_that_is_not_http(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli([url, "--duration", "0.6", "--concurrency", "1"]) == 2
    assert "argument URL: must be an http:// or https:// URL" in capsys.readouterr().err


def test_cli_exits_2_when_the_url_is_unreachable(closed_port_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code = _cli([closed_port_url, "--duration", "5", "--concurrency", "2"])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip() == f"probe: cannot reach URL {closed_port_url}: connection refused"
    assert captured.out == ""
    assert time.monotonic() - started < 2  # no load was run


def test_progress_line_only_on_a_terminal(
    server: _AppServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = [server.url("/real"), "--duration", "0.6", "--concurrency", "1"]

    assert _cli(argv) == 0
    assert capsys.readouterr().err == ""  # pytest's captured stderr is not a TTY

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert _cli(argv) == 0
    assert "\r" in terminal.getvalue()
    assert "sent " in terminal.getvalue() and "p99 " in terminal.getvalue()

    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert _cli([*argv, "--quiet"]) == 0
    assert quiet.getvalue() == ""
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("sent ")


def test_cli_draws_a_png_chart(server: _AppServer, tmp_path: Path) -> None:
    require(importlib.util.find_spec("matplotlib") is not None, "matplotlib (for --chart)", "pip install matplotlib")
    from matplotlib.image import imread

    chart = tmp_path / "probe.png"
    code = _cli([server.url("/mixed"), "--duration", "0.6", "--concurrency", "2", "--chart", str(chart), "--quiet"])

    assert code == 1
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert imread(chart).shape[:2] == (450, 1000)


def test_cli_without_matplotlib_says_how_to_install_it(
    server: _AppServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    code = _cli([server.url("/real"), "--duration", "0.6", "--concurrency", "1", "--chart", str(tmp_path / "c.png")])

    assert code == 2
    assert "pip install matplotlib" in capsys.readouterr().err
    assert server.hits == 0


def test_module_runs_with_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.probe", "--help"], cwd=REPO, capture_output=True, text=True, timeout=30
    )

    assert done.returncode == 0
    assert "--slow-share" in done.stdout and "Exit status" in done.stdout


# --- module layers ---------------------------------------------------------------

# Lowest first; a module may import only from a layer below its own.
LAYERS = [{"options", "classify", "websocket_client"}, {"result"}, {"load", "websockets"}, {"report", "chart"}, {"cli"}]


def _layer(module: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if module in names)


def _siblings_imported(tree: ast.Module) -> Iterator[str]:
    # ast.walk sees every import, also those under TYPE_CHECKING or inside a function.
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            yield from [node.module.split(".")[0]] if node.module else [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tools.probe."):
            yield node.module.split(".")[2]
        elif isinstance(node, ast.Import):
            yield from (a.name.split(".")[2] for a in node.names if a.name.startswith("tools.probe."))


def test_probe_modules_import_only_from_lower_layers() -> None:
    modules = {path.stem for path in PROBE_PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert modules == set().union(*LAYERS), "a new probe module needs a place in LAYERS"
    upward = [
        f"{module} imports {imported}"
        for module in sorted(modules)
        for imported in _siblings_imported(ast.parse((PROBE_PACKAGE / f"{module}.py").read_text()))
        if _layer(imported) >= _layer(module)
    ]
    assert upward == []


# --- https ---------------------------------------------------------------------------


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[_AppServer, str]]:
    """The app server behind TLS with a throw-away CA; yields it and the CA file."""
    import trustme

    ca = trustme.CA()
    app = _AppServer()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    app.socket = context.wrap_socket(app.socket, server_side=True)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    yield app, str(ca_file)
    app.stop()


def test_https_is_verified_against_the_given_ca_even_with_requests_ca_bundle_set(
    https_server: tuple[_AppServer, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests lets REQUESTS_CA_BUNDLE override a Session's verify (not a request's):
    # a CI machine with it set would fail every request to a private CA.
    app, ca_file = https_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    url = f"https://localhost:{app.server_address[1]}/real"
    verified = _run(url, ca_file=ca_file)
    unverified = _run(url)
    assert verified.sent > 0 and verified.failed == 0, verified.failures_by_kind
    assert unverified.sent > 0 and unverified.failed == unverified.sent
