"""The nginx service: its generated config, health check and published port."""

from __future__ import annotations

import base64

import pytest

from nginx.config import content_hash
from standins.mock_program import auto_name, run_stack
from standins.resource_types import NETWORK, SERVICE_CONFIG
from tests.unit.conftest import service


def test_config_is_mounted_from_a_content_addressed_service_config(stack_program):
    (config,) = stack_program.of_type(SERVICE_CONFIG)
    rendered = base64.b64decode(config.inputs["data"]).decode()
    assert config.name == f"webapp-nginx-conf-{content_hash(rendered)[:12]}"
    container = service(stack_program, "webapp-nginx").inputs["taskSpec"]["containerSpec"]
    assert container["configs"] == [
        {"configId": config.id, "configName": auto_name(config.name), "fileName": "/etc/nginx/conf.d/default.conf"}
    ]


def test_nginx_config_changes_create_a_new_config_resource(dev):
    changed = run_stack("dev", overrides={"nginxFailTimeout": "5s"})
    (old,), (new,) = dev.of_type(SERVICE_CONFIG), changed.of_type(SERVICE_CONFIG)
    assert old.name != new.name
    assert b"fail_timeout=5s" in base64.b64decode(new.inputs["data"])


def test_dev_publishes_in_host_mode_and_stops_first(dev):
    inputs = service(dev, "webapp-nginx").inputs
    assert inputs["endpointSpec"] == {
        "mode": "vip",
        "ports": [{"targetPort": 80, "publishedPort": 80, "publishMode": "host"}],
    }
    # One node, one host port: the new task cannot bind before the old one exits.
    assert inputs["updateConfig"]["order"] == "stop-first"
    assert inputs["mode"] == {"replicated": {"replicas": 1}}


def test_prod_publishes_through_ingress_and_starts_first(prod):
    inputs = service(prod, "webapp-nginx").inputs
    assert inputs["endpointSpec"]["ports"] == [{"targetPort": 80, "publishedPort": 80, "publishMode": "ingress"}]
    assert inputs["updateConfig"]["order"] == "start-first"
    assert inputs["mode"] == {"replicated": {"replicas": 2}}


def test_nginx_image_health_check_network_and_rollback(dev):
    (network,) = dev.of_type(NETWORK)
    inputs = service(dev, "webapp-nginx").inputs
    container = inputs["taskSpec"]["containerSpec"]
    assert container["image"] == "nginx:1.30-alpine"
    assert container["healthcheck"]["tests"][1].startswith("curl -fsS -o /dev/null http://127.0.0.1:80/nginx-health ||")
    assert inputs["taskSpec"]["networksAdvanceds"] == [{"id": network.id}]
    assert inputs["updateConfig"]["failureAction"] == "rollback"
    # The monitor covers nginx's own start period + (interval + timeout) x retries.
    assert inputs["updateConfig"]["monitor"] == "14s"


@pytest.mark.parametrize("port", [8080, 443])
def test_published_port_follows_config(port):
    program = run_stack("dev", overrides={"publishedPort": port})
    assert service(program, "webapp-nginx").inputs["endpointSpec"]["ports"][0]["publishedPort"] == port
    assert program.outputs["url"] == f"http://localhost:{port}/"
