"""The probe's WebSocket watch against the test app on loopback: how held connections end, and new ones."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from tests.support.testapp_process import AppProcess, free_ports, start_testapp
from tests.support.waiting import until
from tools.probe.cli import main
from tools.probe.websockets import WebSocketOptions, WebSocketResult, WebSocketWatch

CONNECTIONS = 3


@pytest.fixture
def app() -> Iterator[AppProcess]:
    (port,) = free_ports(1)
    app = start_testapp("real-1", port)
    yield app
    app.close()


def watch(app: AppProcess, path: str = "/ws") -> WebSocketWatch:
    options = WebSocketOptions(f"{app.url}{path}", connections=CONNECTIONS, ping_interval=0.1, timeout=2.0)
    w = WebSocketWatch(options)
    w.start()
    return w


def held_through(
    app: AppProcess, event: Callable[[], object], then: Callable[[WebSocketWatch], bool]
) -> WebSocketResult:
    w = watch(app)
    until(lambda: w.opened == CONNECTIONS, "every connection open")
    event()
    until(lambda: then(w), "the watch saw the event")
    return w.stop()


def test_a_drain_closes_held_connections_with_going_away_and_new_ones_are_refused_while_nothing_listens(
    app: AppProcess,
):
    result = held_through(app, app.terminate, lambda w: w.failed_opens >= CONNECTIONS)
    assert result.endings_by_kind == {"closed 1001": CONNECTIONS}
    assert result.dropped == 0
    assert set(result.failed_opens_by_kind) == {"refused"}
    assert result.open_at_stop == 0


def test_a_restart_gets_every_connection_back_and_the_wait_is_measured(app: AppProcess):
    result = held_through(app, app.restart, lambda w: w.opened == 2 * CONNECTIONS)
    assert result.endings_by_kind == {"closed 1001": CONNECTIONS}
    assert result.open_at_stop == CONNECTIONS
    assert 0 < result.longest_without_s < 10


def test_a_killed_server_drops_the_connections_without_a_close_frame(app: AppProcess):
    result = held_through(app, app.kill, lambda w: w.failed_opens >= CONNECTIONS)
    assert sum(result.endings_by_kind.values()) == CONNECTIONS
    assert set(result.endings_by_kind) <= {"dropped", "reset"}, result.endings_by_kind
    assert result.dropped == CONNECTIONS


def test_an_endpoint_that_does_not_upgrade_is_a_failed_open_with_its_status(app: AppProcess):
    w = watch(app, "/client")
    until(lambda: w.failed_opens >= CONNECTIONS, "every open failed")
    result = w.stop()
    assert set(result.failed_opens_by_kind) == {"HTTP 200"}
    assert result.opened == 0


def test_the_cli_holds_websockets_beside_the_load_and_reports_them(app: AppProcess, capsys, tmp_path):
    out = tmp_path / "result.json"
    load = [f"{app.url}/", "--duration", "1", "--concurrency", "1", "--quiet"]
    status = main([*load, "--websocket", "/ws", "--websockets", "2", "--json", str(out)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "websockets: opened 2, failed opens 0 (none); ended: none;" in printed
    assert json.loads(out.read_text())["websockets"]["open_at_stop"] == 2


def test_the_cli_counts_failed_opens_as_failures(app: AppProcess, capsys):
    status = main([f"{app.url}/", "--duration", "1", "--concurrency", "1", "--quiet", "--websocket", "/client"])
    assert status == 1
    assert "failed opens" in capsys.readouterr().out
