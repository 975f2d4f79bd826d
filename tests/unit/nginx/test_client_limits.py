"""clientTimeout and clientConnectionsPerAddress in the configs both tiers mount."""

from __future__ import annotations

import re

import pytest

from offline_runner.mock_program import run_stack
from tests.support.tls import issue
from tests.unit.nginx.test_l7_tier import directives
from tools.render_nginx import edge_config, nginx_config

HOST = "app.example.com"


def tls_stack(**overrides: object):
    return run_stack("dev", overrides={"publicHost": HOST, **overrides}, secrets=issue(HOST).secrets)


def servers(config: str) -> list[list[str]]:
    """Each top-level server block's directives (the L7 config has no nesting above server)."""
    blocks: list[list[str]] = []
    depth = 0
    for line in directives(config):
        if depth == 0 and line == "server {":
            blocks.append([])
        if blocks and depth > 0:
            blocks[-1].append(line)
        depth += line.count("{") - line.count("}")
    return blocks


def outside_upstreams(lines: list[str]) -> list[str]:
    """The directives of a config but those in its upstream blocks (which have no nested block)."""
    kept: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("upstream ") and line.endswith("{"):
            inside = True
        elif not inside:
            kept.append(line)
        elif line == "}":
            inside = False
    return kept


def value(lines: list[str], directive: str) -> str:
    (found,) = [line for line in lines if line.startswith(directive + " ")]
    return found.removeprefix(directive + " ").removesuffix(";")


def test_the_edge_bounds_slow_http_clients_and_their_connections_per_address(dev):
    lines = outside_upstreams(directives(edge_config(dev)))
    for directive in ("client_header_timeout", "client_body_timeout", "send_timeout", "keepalive_timeout"):
        assert value(lines, directive) == "30s"
    assert "reset_timedout_connection on;" in lines
    assert "limit_conn_zone $binary_remote_addr zone=clients:10m;" in lines
    assert "limit_conn clients 100;" in lines
    assert "limit_conn_status 429;" in lines


def test_the_tls_stream_is_limited_per_address():
    lines = directives(edge_config(tls_stack()))
    assert "limit_conn_zone $binary_remote_addr zone=tls_clients:10m;" in lines
    assert "limit_conn tls_clients 100;" in lines


@pytest.mark.parametrize(
    "timeout, own, behind_edge",
    [("30s", "30s", "32s"), ("1s", "1s", "3s"), ("1500ms", "1500ms", "3500ms"), ("10m", "600s", "602s")],
)
def test_every_l7_server_a_client_reaches_is_bounded_and_waits_on_the_edge_longer_than_the_edge_waits(
    timeout, own, behind_edge
):
    config = nginx_config(tls_stack(clientTimeout=timeout))
    # The health server listens on loopback only; every other server takes a client's bytes.
    public = [block for block in servers(config) if not block[0].startswith("listen 127.0.0.1:")]
    assert len(public) == 4, "421, TLS refusal, redirect, the site"
    for block in public:
        # TLS ends here, so its client is the L7 tier's own; plain HTTP comes from the edge.
        expected = own if " ssl" in block[0] else behind_edge
        for directive in ("client_header_timeout", "client_body_timeout", "send_timeout"):
            assert value(block, directive) == expected, block[0]
        assert value(block, "keepalive_timeout") == "30s"
        assert "reset_timedout_connection on;" in block


@pytest.mark.parametrize(
    "overrides", [{"publishMode": "ingress"}, {"clientConnectionsPerAddress": 0}], ids=["ingress", "zero"]
)
def test_no_per_address_limit_with_ingress_publishing_or_when_set_to_zero(overrides):
    config = edge_config(tls_stack(**overrides))
    assert not re.search(r"^\s*limit_conn", config, re.MULTILINE)
    # The timeouts stay.
    assert "client_body_timeout 30s;" in config


def test_the_limit_reaches_both_http_and_tls():
    config = edge_config(tls_stack(clientConnectionsPerAddress=7))
    assert "limit_conn clients 7;" in config and "limit_conn tls_clients 7;" in config
