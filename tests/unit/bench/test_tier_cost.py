"""What the configs say about upstream keep-alive, and how the published port reaches the edge."""

from __future__ import annotations

from bench.tier_cost import is_docker_proxy, upstream_keepalive
from offline_runner.mock_program import DeclaredProgram
from tools.render_nginx import edge_config, nginx_config

# --- the configs and the host ---------------------------------------------------------------


def test_neither_hop_of_the_dev_stack_keeps_upstream_connections(dev: DeclaredProgram):
    assert upstream_keepalive(edge_config(dev)) == {"l7-tier": False}
    assert upstream_keepalive(nginx_config(dev)) == {"app-server": False}


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
server {
    keepalive_timeout 5s;
}
"""
    assert upstream_keepalive(config) == {"a": True, "b": False}


DOCKER_PROXY = (
    "/usr/sbin/docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 18090 -container-ip 172.18.0.9 -container-port 80"
)


def test_the_docker_proxy_of_the_published_port_is_recognised():
    assert is_docker_proxy(DOCKER_PROXY.split(), 18090)
    assert not is_docker_proxy(DOCKER_PROXY.split(), 18080)
    assert not is_docker_proxy(["/usr/bin/hey", "-host-port", "18090"], 18090)
    assert not is_docker_proxy(["/usr/sbin/docker-proxy", "-host-port"], 18090)
    assert not is_docker_proxy([], 18090)
