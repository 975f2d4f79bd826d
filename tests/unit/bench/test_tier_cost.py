"""What the configs say about upstream keep-alive, and how the published port reaches the edge."""

from __future__ import annotations

from bench.tier_cost import is_docker_proxy, upstream_keepalive
from offline_runner.mock_program import DeclaredProgram
from tools.render_nginx import edge_config, nginx_config

# --- the configs and the host ---------------------------------------------------------------


GETS_ONLY = ", for GET and HEAD (other methods: a connection each, `Connection: close`)"


def test_both_hops_of_the_dev_stack_keep_connections_for_gets_on_nginx_1_29_7_and_later(dev: DeclaredProgram):
    default = "nginx 1.30.6's default, up to 32 idle per worker and location"
    assert upstream_keepalive(edge_config(dev), "1.30.6") == {"l7-tier": f"{default}, closed after 25s idle{GETS_ONLY}"}
    assert upstream_keepalive(nginx_config(dev), "1.30.6") == {
        "app-server": f"{default}, closed after 1s idle{GETS_ONLY}"
    }
    assert upstream_keepalive(nginx_config(dev), "1.28.0") == {
        "app-server": "none (nginx 1.28.0 keeps none without `keepalive`)"
    }


def test_keepalive_is_read_per_upstream_and_comments_do_not_count():
    config = """
upstream a {
    server x:80;
    keepalive 16;
}
upstream b {
    server y:80;
    # keepalive 8;
}
upstream c {
    server z:80;
    keepalive 0;
}
server {
    keepalive_timeout 5s;
}
"""
    assert upstream_keepalive(config, "1.28.0") == {
        "a": "up to 16 idle per worker, closed after 60s idle",
        "b": "none (nginx 1.28.0 keeps none without `keepalive`)",
        "c": "none (`keepalive 0`)",
    }


DOCKER_PROXY = (
    "/usr/sbin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 18090 -container-ip 172.18.0.9 -container-port 80"
)


def test_the_docker_proxy_of_the_published_port_is_recognised():
    assert is_docker_proxy(DOCKER_PROXY.split(), 18090)
    assert not is_docker_proxy(DOCKER_PROXY.split(), 18080)
    assert not is_docker_proxy(["/usr/bin/hey", "-host-port", "18090"], 18090)
    assert not is_docker_proxy(["/usr/sbin/docker-proxy", "-host-port"], 18090)
    assert not is_docker_proxy([], 18090)
