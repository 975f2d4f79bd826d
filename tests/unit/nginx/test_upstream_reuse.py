"""Each tier closes an idle kept connection to the next hop before the next hop would."""

from __future__ import annotations

from swarm_zero_downtime.nginx.client_limits import KEEPALIVE_TIMEOUT
from swarm_zero_downtime.nginx.upstream_reuse import EDGE_TO_L7_IDLE, L7_TO_APP_IDLE
from swarm_zero_downtime.swarm.values import SECOND, Duration
from tests.unit.nginx.test_client_limits import outside_upstreams, servers, value
from tests.unit.nginx.test_l7_tier import directives
from tools.render_nginx import edge_config, nginx_config

# gunicorn's async workers keep an idle connection 2 s, the shortest of the usual servers.
SHORTEST_APP_IDLE = Duration(2 * SECOND)


def upstream_idle(config: str) -> list[str]:
    lines = directives(config)
    return [line for line in lines if line.startswith("keepalive_timeout ") and line not in outside_upstreams(lines)]


def test_the_edge_closes_an_idle_connection_to_an_l7_task_before_the_l7_task_would(dev):
    (edge_idle,) = upstream_idle(edge_config(dev))
    site = [block for block in servers(nginx_config(dev)) if "location / {" in block]
    assert len(site) == 1
    assert edge_idle == f"keepalive_timeout {EDGE_TO_L7_IDLE.nginx};"
    assert value(site[0], "keepalive_timeout") == KEEPALIVE_TIMEOUT.nginx
    assert EDGE_TO_L7_IDLE < KEEPALIVE_TIMEOUT


def test_the_l7_tier_closes_an_idle_connection_to_an_app_task_before_common_servers_would(dev):
    assert upstream_idle(nginx_config(dev)) == [f"keepalive_timeout {L7_TO_APP_IDLE.nginx};"]
    assert L7_TO_APP_IDLE < SHORTEST_APP_IDLE
