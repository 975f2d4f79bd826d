"""The edge: one nginx per node on the published ports, with a config that rarely changes."""

from __future__ import annotations

import base64
import logging

import pytest

from offline_runner.mock_program import mock_digest, run_stack
from offline_runner.resource_types import NETWORK, SERVICE_CONFIG
from swarm_zero_downtime.nginx.edge_start_gate import start_gate_command
from swarm_zero_downtime.swarm.naming import config_owner
from swarm_zero_downtime.swarm.values import SECOND, Duration
from tests.support.tls import issue
from tests.unit.conftest import service
from tools.render_nginx import nginx_config


def edge_config(program) -> str:
    (config,) = [c for c in program.of_type(SERVICE_CONFIG) if config_owner(c.name) == "webapp-edge"]
    return base64.b64decode(config.inputs["data"]).decode()


def test_dev_publishes_in_host_mode_on_every_node_and_stops_first(dev):
    inputs = service(dev, "webapp-edge").inputs
    assert inputs["endpointSpec"] == {
        "mode": "vip",
        "ports": [{"targetPort": 80, "publishedPort": 80, "publishMode": "host"}],
    }
    assert inputs["mode"] == {"global": True}
    # One host port per node: a new edge task cannot bind before the old one exits.
    assert inputs["updateConfig"]["order"] == "stop-first"
    assert inputs["taskSpec"]["containerSpec"]["stopSignal"] == "SIGQUIT"


def test_the_edge_is_on_the_edge_network_only(dev):
    network = dev.get(NETWORK, "webapp-edge-net")
    assert service(dev, "webapp-edge").inputs["taskSpec"]["networksAdvanceds"] == [{"id": network.id}]


def test_prod_publishes_through_ingress_and_starts_first(prod):
    inputs = service(prod, "webapp-edge").inputs
    assert inputs["endpointSpec"]["ports"] == [{"targetPort": 80, "publishedPort": 80, "publishMode": "ingress"}]
    assert inputs["updateConfig"]["order"] == "start-first"


@pytest.mark.parametrize(
    "overrides",
    [
        {"nginxFailTimeout": "5s"},
        {"nginxImage": "nginx:1.31-alpine"},
        {"nginxReplicas": 4},
        {"imageTag": "v2"},
        {"realReplicas": 5, "nginxNextUpstreamTries": 6},
        {"publicHost": "app.example.com"},
        {"nginxResolverValid": "5s"},
        # The edge outwaits any value of these (nginx/protocols.py).
        {"nginxReadTimeout": "1h", "nginxSendTimeout": "1h", "websocketIdleTimeout": "1h"},
        {"requestBodyMaxSize": "1g", "responseBuffering": False, "http2": False},
    ],
)
def test_no_ordinary_change_touches_the_edge(dev, overrides):
    assert service(run_stack("dev", overrides=overrides), "webapp-edge").inputs == service(dev, "webapp-edge").inputs


def test_edge_image_is_its_own_key(dev):
    changed = run_stack("dev", overrides={"edgeImage": "nginx:1.31-alpine"})
    edge_image = service(changed, "webapp-edge").inputs["taskSpec"]["containerSpec"]["image"]
    assert edge_image == "nginx:1.31-alpine@" + mock_digest("nginx:1.31-alpine")
    assert service(changed, "webapp-nginx").inputs == service(dev, "webapp-nginx").inputs


def test_edge_proxies_http_to_every_l7_task_and_loads_no_stream_module_without_tls(dev):
    text = edge_config(dev)
    assert "server tasks.webapp-nginx:80 resolve;" in text
    assert "stream" not in text.replace("upstream", "")


def test_with_tls_the_edge_passes_443_through_with_the_proxy_protocol():
    program = run_stack("dev", overrides={"httpsPort": 8443}, secrets=issue("localhost").secrets)
    text = edge_config(program)
    assert "load_module modules/ngx_stream_module.so;" in text
    assert "server tasks.webapp-nginx:443 resolve;" in text
    assert "proxy_protocol on;" in text
    assert service(program, "webapp-edge").inputs["endpointSpec"]["ports"] == [
        {"targetPort": 80, "publishedPort": 80, "publishMode": "host"},
        {"targetPort": 443, "publishedPort": 8443, "publishMode": "host"},
    ]


def test_the_edge_holds_any_answer_headers_the_l7_tier_passes_on(dev):
    # Headers too big for the edge's buffer would count against the L7 task that sent them.
    def header_buffer_kib(text: str) -> int:
        (line,) = [line.strip() for line in text.splitlines() if line.strip().startswith("proxy_buffer_size ")]
        return int(line.removeprefix("proxy_buffer_size ").removesuffix("k;"))

    assert header_buffer_kib(edge_config(dev)) >= header_buffer_kib(nginx_config(dev)) + 4


def test_edge_finds_out_silently_dead_l7_tasks_with_a_longer_retransmission_limit_than_the_tier():
    program = run_stack("dev", overrides={"httpsPort": 8443}, secrets=issue("localhost").secrets)
    # Keep-alive acts only on the sockets that ask for it: the upstream ones, in http and stream.
    assert edge_config(program).count("proxy_socket_keepalive on;") == 2
    # The retransmission limit acts on the clients' connections too: longer than the L7 tier's.
    assert service(program, "webapp-edge").inputs["taskSpec"]["containerSpec"]["sysctl"] == {
        "net.ipv4.tcp_keepalive_time": "1",
        "net.ipv4.tcp_keepalive_intvl": "1",
        "net.ipv4.tcp_keepalive_probes": "2",
        "net.ipv4.tcp_retries2": "3",
    }


def test_the_edge_listens_once_its_node_knows_the_l7_tier(dev):
    command = service(dev, "webapp-edge").inputs["taskSpec"]["containerSpec"]["commands"]
    assert command == start_gate_command("tasks.webapp-nginx")


def test_a_dead_edge_is_replaced_at_once_in_every_stack(dev, prod):
    # Swarm's default waits 5 s, while the node refuses every connection; pulumi-docker
    # sends the default only to a service created without the block and never updated.
    for program in (dev, prod):
        assert service(program, "webapp-edge").inputs["taskSpec"]["restartPolicy"] == {
            "condition": "any",
            "delay": "0s",
            "maxAttempts": 0,
            "window": "0s",
        }


def test_a_replaced_edge_is_deleted_first_because_it_holds_the_published_ports(dev, prod):
    assert service(dev, "webapp-edge").delete_before_replace
    assert service(prod, "webapp-edge").delete_before_replace


def test_the_preview_says_what_an_edge_update_does_to_traffic():
    from swarm_zero_downtime.components.edge import describe_edge_rollout

    assert "stop-first" in describe_edge_rollout("host") and "refuses connections" in describe_edge_rollout("host")
    assert "no gap" in describe_edge_rollout("ingress")
    for mode in ("host", "ingress"):
        assert "moving a published port or turning TLS off leaves the old port refusing for good" in (
            describe_edge_rollout(mode)
        )


@pytest.mark.parametrize(("grace", "shutdown"), [("30s", "22s"), ("10s", "2s"), ("9s", "1s"), ("5s", "1s")])
def test_the_edge_closes_what_is_left_before_pulumi_dockers_delete_deadline(grace, shutdown):
    # The stop signal about 3.4 s after the delete, the removal 2.5 s after the exit (measured): 4 s each.
    config = edge_config(run_stack("dev", overrides={"stopGracePeriod": grace}))
    assert f"\nworker_shutdown_timeout {shutdown};\n" in config


def test_a_grace_period_too_short_for_the_deadline_is_warned_at_preview(caplog):
    with caplog.at_level(logging.WARNING):
        run_stack("dev", overrides={"stopGracePeriod": "8s"})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("stopGracePeriod 8s leaves the edge's nginx less than 1s" in m for m in warnings), warnings
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        run_stack("dev", overrides={"stopGracePeriod": "9s"})
    assert not [r for r in caplog.records if "stopGracePeriod" in r.getMessage()]


DRAINING: dict[str, object] = {"edgeDrain": "5s", "stopGracePeriod": "30s"}


def test_without_a_drain_the_edge_stops_at_once_and_its_health_path_never_fails(dev):
    command = service(dev, "webapp-edge").inputs["taskSpec"]["containerSpec"]["commands"]
    assert command[2].endswith("\nexec nginx -g 'daemon off;'\n")
    assert "edge-draining" not in edge_config(dev)


def test_a_draining_edge_keeps_its_shell_to_drain_before_nginx_stops():
    program = run_stack("dev", overrides=DRAINING)
    container = service(program, "webapp-edge").inputs["taskSpec"]["containerSpec"]
    assert container["commands"] == start_gate_command("tasks.webapp-nginx", drain=Duration(5 * SECOND))
    assert "exec nginx" not in container["commands"][2]
    assert container["stopSignal"] == "SIGQUIT"


def test_a_draining_edge_answers_503_on_its_public_health_path_only_while_marked():
    text = edge_config(run_stack("dev", overrides=DRAINING))
    health = "location = /nginx-health {"
    internal, public = text.split(health)[1:]
    # Swarm's check on 127.0.0.1 must pass while draining: the edge is healthy, only leaving.
    assert "if (" not in internal.split("}")[0]
    assert public.index("if (-f /tmp/edge-draining) {") < public.index('return 503 "draining\\n";')
    assert public.index('return 503 "draining\\n";') < public.index('return 200 "ok\\n";')


@pytest.mark.parametrize(("grace", "shutdown"), [("30s", "17s"), ("14s", "1s"), ("6s", "1s")])
def test_a_draining_edge_closes_what_is_left_after_the_drain_before_the_delete_deadline(grace, shutdown):
    config = edge_config(run_stack("dev", overrides={"edgeDrain": "5s", "stopGracePeriod": grace}))
    assert f"\nworker_shutdown_timeout {shutdown};\n" in config


def test_a_grace_period_too_short_for_the_drain_and_the_deadline_is_warned_at_preview(caplog):
    with caplog.at_level(logging.WARNING):
        run_stack("dev", overrides={"edgeDrain": "5s", "stopGracePeriod": "13s"})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        "stopGracePeriod 13s leaves the edge's nginx less than 1s to close its connections after its edgeDrain"
        " of 5s before pulumi-docker's delete deadline"
        in m
        and "give it at least 14s" in m
        for m in warnings
    ), warnings
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        run_stack("dev", overrides={"edgeDrain": "5s", "stopGracePeriod": "14s"})
    assert not [r for r in caplog.records if "stopGracePeriod" in r.getMessage()]


def test_the_preview_says_what_the_drain_does_and_what_it_needs():
    from swarm_zero_downtime.components.edge import describe_edge_rollout

    text = describe_edge_rollout("host", drain=Duration(5 * SECOND))
    assert "first each stopping edge drains for 5s: its health path on the published port answers 503" in text
    assert "removes the gap only for clients behind a load balancer" in text
    assert "(its interval times its fall count) takes the node out within 5s; without one the gap stays" in text
    assert "TCP mode" not in text
    assert "drains" not in describe_edge_rollout("host")
    with_tls = describe_edge_rollout("host", drain=Duration(5 * SECOND), tls=True)
    assert (
        "HTTPS through a load balancer in TCP mode: the L7 tier ends each TLS connection once it is 2.5s old,"
        " so the load balancer must take the node out within 2.5s, less twice your longest request" in with_tls
    )
