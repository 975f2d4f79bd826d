"""Request bodies, WebSockets, streamed answers, the app's timeouts and HTTP/2 in the configs both tiers mount."""

from __future__ import annotations

import pytest

from offline_runner.mock_program import run_stack
from swarm_zero_downtime.nginx.protocols import EDGE_WAIT, LONGEST_APP_WAIT, LONGEST_CONNECT, LONGEST_RETRY_WINDOW
from swarm_zero_downtime.settings import RULES
from tests.support.tls import issue
from tests.unit.nginx.test_client_limits import servers, value
from tests.unit.nginx.test_l7_tier import directives
from tools.render_nginx import edge_config, nginx_config

HOST = "app.example.com"


def app_server(config: str) -> list[str]:
    """The directives of the server that passes requests to the app (the one with location /)."""
    (found,) = [
        lines for lines in servers(config) if "location / {" in lines and "proxy_pass http://app-server;" in lines
    ]
    return found


def test_the_keys_reach_the_server_that_passes_requests_to_the_app():
    program = run_stack(
        "dev",
        overrides={
            "requestBodyMaxSize": "20M",
            "nginxReadTimeout": "2m",
            "nginxSendTimeout": "1500ms",
            "websocketIdleTimeout": "1h",
            "responseBuffering": False,
            "nginxNextUpstreamTimeout": "1s",
        },
    )
    lines = app_server(nginx_config(program))
    assert value(lines, "client_max_body_size") == "20m"
    assert value(lines, "proxy_buffering") == "off"
    # The first of each is the server's, for every request; the upgrade location has its own.
    assert [line for line in lines if line.startswith(("proxy_read_timeout", "proxy_send_timeout"))] == [
        "proxy_read_timeout 120s;",
        "proxy_send_timeout 1500ms;",
        "proxy_read_timeout 3600s;",
        "proxy_send_timeout 3600s;",
    ]


@pytest.mark.parametrize("size, nginx", [("0", "0"), ("1048577", "1048577"), ("2048k", "2m"), ("100g", "100g")])
def test_a_body_size_is_written_in_the_largest_unit_that_holds_it(size, nginx):
    lines = app_server(nginx_config(run_stack("dev", overrides={"requestBodyMaxSize": size})))
    assert value(lines, "client_max_body_size") == nginx


def test_websocket_upgrades_pass_both_tiers_and_other_requests_keep_or_close_their_upstream_connection(dev):
    for config in (nginx_config(dev), edge_config(dev)):
        lines = directives(config)
        assert lines[lines.index("map $http_upgrade $connection_upgrade {") + 1 :][:3] == [
            "default upgrade;",
            '"" $upstream_connection;',
            "}",
        ]
        assert lines[lines.index("map $request_method $upstream_connection {") + 1 :][:4] == [
            'GET "";',
            'HEAD "";',
            "default close;",
            "}",
        ]
        assert "proxy_http_version 1.1;" in lines
        assert "proxy_set_header Upgrade $http_upgrade;" in lines
        assert "proxy_set_header Connection $connection_upgrade;" in lines
        # nginx 1.29.7+ keeps connections by default; an explicit `keepalive N` would share them with
        # the location that passes other methods (nginx/upstream_reuse.py).
        assert not any(line.startswith("keepalive ") for line in lines)


@pytest.mark.parametrize("http2, expected", [(True, 1), (False, 0)])
def test_http2_is_offered_on_the_served_tls_listener_only(http2, expected):
    program = run_stack("dev", overrides={"publicHost": HOST, "http2": http2}, secrets=issue(HOST).secrets)
    tls_servers = [lines for lines in servers(nginx_config(program)) if "listen 443 ssl proxy_protocol;" in lines]
    assert [lines.count("http2 on;") for lines in tls_servers] == [expected]
    assert directives(nginx_config(program)).count("http2 on;") == expected


def test_the_edge_outwaits_the_longest_wait_any_stack_can_give_the_l7_tier():
    # Trying tasks for the whole retry window, one more connect, then the app's longest wait.
    for key, longest in [
        ("nginxReadTimeout", LONGEST_APP_WAIT),
        ("nginxSendTimeout", LONGEST_APP_WAIT),
        ("websocketIdleTimeout", LONGEST_APP_WAIT),
        ("nginxNextUpstreamTimeout", LONGEST_RETRY_WINDOW),
        ("nginxConnectTimeout", LONGEST_CONNECT),
    ]:
        assert RULES[key].maximum == longest.nanos, key  # type: ignore[attr-defined]
    assert EDGE_WAIT > LONGEST_RETRY_WINDOW + LONGEST_CONNECT + LONGEST_APP_WAIT
    lines = directives(edge_config(run_stack("dev", overrides={"publicHost": HOST}, secrets=issue(HOST).secrets)))
    wait = EDGE_WAIT.nginx
    assert [value(lines, d) for d in ("proxy_read_timeout", "proxy_send_timeout", "proxy_timeout")] == [wait] * 3
