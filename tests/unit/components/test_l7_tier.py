"""The L7 nginx tier: its generated config, TLS secret, health check and rollout."""

from __future__ import annotations

import base64

import pytest

from offline_runner.mock_program import auto_name, mock_digest, run_stack
from offline_runner.resource_types import NETWORK, SECRET, SERVICE_CONFIG
from swarm_zero_downtime.nginx.render import content_hash
from swarm_zero_downtime.swarm.naming import config_owner
from tests.support.tls import issue
from tests.unit.conftest import service

# Pulumi's wire form of a secret value (sdk/python/lib/pulumi/runtime/rpc.py _special_secret_sig).
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def l7_config(program):
    (config,) = [c for c in program.of_type(SERVICE_CONFIG) if config_owner(c.name) == "webapp-nginx"]
    return config


def test_config_is_mounted_from_a_content_addressed_service_config(stack_program):
    config = l7_config(stack_program)
    rendered = base64.b64decode(config.inputs["data"]).decode()
    assert config.name == f"webapp-nginx-conf-{content_hash(rendered)[:12]}"
    container = service(stack_program, "webapp-nginx").inputs["taskSpec"]["containerSpec"]
    assert container["configs"] == [
        {"configId": config.id, "configName": auto_name(config.name), "fileName": "/etc/nginx/conf.d/default.conf"}
    ]


def test_nginx_setting_change_creates_a_new_config_and_leaves_the_edge_alone(dev):
    changed = run_stack("dev", overrides={"nginxFailTimeout": "5s"})
    old, new = l7_config(dev), l7_config(changed)
    assert old.name != new.name
    assert b"fail_timeout=5s" in base64.b64decode(new.inputs["data"])
    assert service(changed, "webapp-edge").inputs == service(dev, "webapp-edge").inputs


def test_tier_is_never_published_and_rolls_start_first_with_a_graceful_stop(stack_program):
    inputs = service(stack_program, "webapp-nginx").inputs
    edge_network, app_network = (stack_program.get(NETWORK, n) for n in ("webapp-edge-net", "webapp-net"))
    # dnsrr and no ports: nothing binds a host port, so a new task can always
    # start before an old one drains, and the edge sees every task.
    assert inputs["endpointSpec"] == {"mode": "dnsrr"}
    assert inputs["updateConfig"]["order"] == "start-first"
    assert inputs["rollbackConfig"]["order"] == "start-first"
    assert inputs["updateConfig"]["failureAction"] == "rollback"
    container = inputs["taskSpec"]["containerSpec"]
    assert container["stopSignal"] == "SIGQUIT"
    # The edge resolves the tier's alias on the edge network; the tier reaches the app on the app network.
    assert inputs["taskSpec"]["networksAdvanceds"] == [
        {"id": edge_network.id, "aliases": ["webapp-nginx"]},
        {"id": app_network.id},
    ]
    assert inputs["mode"]["replicated"]["replicas"] >= 2


def test_tier_finds_out_silently_dead_app_tasks_within_seconds(stack_program):
    # Keep-alive probes for a request the task acknowledged, the retransmission
    # limit (3 s) for one it did not; nginx then retries the request elsewhere.
    l7 = service(stack_program, "webapp-nginx")
    assert l7.inputs["taskSpec"]["containerSpec"]["sysctl"] == {
        "net.ipv4.tcp_keepalive_time": "1",
        "net.ipv4.tcp_keepalive_intvl": "1",
        "net.ipv4.tcp_keepalive_probes": "2",
        "net.ipv4.tcp_retries2": "2",
    }
    assert "proxy_socket_keepalive on;" in base64.b64decode(l7_config(stack_program).inputs["data"]).decode()
    # Auto-named and published nowhere: a replacement starts the new tier first.
    assert not l7.delete_before_replace


def test_tier_drains_as_long_as_the_app_may(prod):
    container = service(prod, "webapp-nginx").inputs["taskSpec"]["containerSpec"]
    assert container["stopGracePeriod"] == "30s"


PLAIN_CHECK = "curl -fsS -o /dev/null http://127.0.0.1:8081/nginx-health || wget -q -O /dev/null http://127.0.0.1:8081/nginx-health"


def health_command(program) -> str:
    tests = service(program, "webapp-nginx").inputs["taskSpec"]["containerSpec"]["healthcheck"]["tests"]
    assert tests[0] == "CMD-SHELL"
    return tests[1]


def test_health_check_is_on_the_loopback_health_port(dev):
    container = service(dev, "webapp-nginx").inputs["taskSpec"]["containerSpec"]
    assert container["image"] == "nginx:1.30-alpine@" + mock_digest("nginx:1.30-alpine")
    # Without TLS, the command stacks were first deployed with: no rolling update for it.
    assert health_command(dev) == PLAIN_CHECK
    # The monitor covers nginx's own start period + (interval + timeout) x retries.
    assert service(dev, "webapp-nginx").inputs["updateConfig"]["monitor"] == "14s"


def test_without_tls_keys_there_is_no_secret_and_no_https(dev):
    assert dev.of_type(SECRET) == []
    assert "secrets" not in service(dev, "webapp-nginx").inputs["taskSpec"]["containerSpec"]
    assert dev.outputs["url"] == "http://localhost:80/"


@pytest.fixture(scope="module")
def certificate():
    return issue("app.example.com")


def tls_program(certificate, **overrides):
    return run_stack("dev", overrides={"publicHost": "app.example.com", **overrides}, secrets=certificate.secrets)


def test_tls_certificate_and_key_become_one_secret_mounted_for_nginx(certificate):
    program = tls_program(certificate)
    (secret,) = program.of_type(SECRET)
    assert secret.name.startswith("webapp-nginx-tls-")
    # Marked secret, so the engine encrypts it in the state and masks it in previews.
    assert secret.inputs["data"][SECRET_SIG] == SECRET_SIG_VALUE
    pem = base64.b64decode(secret.inputs["data"]["value"]).decode()
    assert pem == certificate.chain.strip() + "\n" + certificate.key.strip() + "\n"
    container = service(program, "webapp-nginx").inputs["taskSpec"]["containerSpec"]
    assert container["secrets"] == [
        {"secretId": secret.id, "secretName": auto_name(secret.name), "fileName": "tls.pem", "fileMode": 0o400}
    ]
    assert program.outputs["url"] == "https://app.example.com:443/"


def test_the_secret_is_named_by_the_certificate_so_a_rotation_is_a_new_secret(certificate):
    first = tls_program(certificate).of_type(SECRET)[0].name
    again = tls_program(certificate).of_type(SECRET)[0].name
    rotated = tls_program(issue("app.example.com", certificate.ca)).of_type(SECRET)[0].name
    assert first == again
    assert rotated != first


def tls_check(name: str) -> str:
    return (
        "if command -v curl >/dev/null; then curl -sS -o /dev/null -k --haproxy-protocol"
        f" --connect-to ::127.0.0.1:443 -X TRACE https://{name}/;"
        " else echo 'no curl in the image: the TLS listener is not checked'; fi"
    )


def test_with_tls_the_health_check_also_completes_a_handshake_on_the_tls_listener(certificate):
    # The listener's PROXY protocol header, the site's name as SNI, this task's
    # own address: no DNS. The real-nginx run is tests/nginx/test_l7_health.py.
    assert health_command(tls_program(certificate)) == f"{{ {PLAIN_CHECK}; }} && {tls_check('app.example.com')}"


def test_with_tls_and_every_host_served_the_handshake_names_localhost():
    program = run_stack("dev", overrides={"publicHost": "10.0.0.5"}, secrets=issue("localhost").secrets)
    assert health_command(program) == f"{{ {PLAIN_CHECK}; }} && {tls_check('localhost')}"


def test_the_tls_health_check_is_kept_out_of_the_access_log(certificate):
    rendered = base64.b64decode(l7_config(tls_program(certificate)).inputs["data"]).decode()
    assert 'map "$remote_addr $request_method" $logged {\n    "127.0.0.1 TRACE" 0;\n    default 1;\n}' in rendered
    assert "access_log /var/log/nginx/access.log upstream_log buffer=64k flush=1s if=$logged;" in rendered
