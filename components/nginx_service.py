"""What the edge and the L7 tier share: their health check and how a config is mounted."""

from __future__ import annotations

import base64

import pulumi
import pulumi_docker as docker

from swarm_zero_downtime.nginx.l7_tier import HEALTH_PATH
from swarm_zero_downtime.nginx.render import content_hash
from swarm_zero_downtime.swarm.naming import nginx_config_name
from swarm_zero_downtime.swarm.values import NGINX_PARALLELISM, SECOND, Duration, HealthCheck, RolloutPolicy

# nginx starts in well under a second; these need no tuning per stack.
NGINX_HEALTH = HealthCheck(
    path=HEALTH_PATH,
    interval=Duration(2 * SECOND),
    timeout=Duration(2 * SECOND),
    retries=3,
    start_period=Duration(2 * SECOND),
)


# A node that dies without closing its connections (power, network) leaves
# the requests nginx had sent there hanging: nginx sees no error, so it
# retries nothing until proxy_read_timeout (60 s). The kernel of each nginx
# task ends such a connection sooner, and nginx then retries the request
# (proxy_next_upstream error) inside its retry window (nginxNextUpstreamTimeout
# on the L7 tier, 10 s on the edge):
# - a request the peer had acknowledged: keep-alive probes
#   (proxy_socket_keepalive in both templates) one second after the last
#   byte, then one a second, dead after two unanswered: about 3 s;
# - one it had not (with keep-alive alone, the fast requests in flight to a
#   node cut off in the cluster tests all hung): Linux sends no keep-alive
#   probe while data is unacknowledged (net/ipv4/tcp_timer.c
#   tcp_keepalive_timer), so only the retransmission limit ends it.
#   tcp_retries2=N allows ((2 << N) - 1) x TCP_RTO_MIN from the first send
#   (tcp_model_timeout), checked only when a retransmission is due (0.2,
#   0.6, 1.4, 3, 6.2 s with backoff): given up after 3 s with 2, 6.2 s with 3.
# All four are per network namespace: they touch the nginx tasks only, and
# keep-alive only the sockets that ask for it (nginx's upstream ones). The
# retransmission limit acts on every socket: the L7 tier's peers are the
# edge and the app, on the overlay, so it gets the shorter one; the edge's
# are its clients too, which it would also cut when they acknowledge nothing
# for that long (slow or lossy links; the kernel's default is 15, about
# 15 minutes), so it gets the longest that still ends within its 10 s.
UPSTREAM_KEEPALIVE_SYSCTLS = {
    "net.ipv4.tcp_keepalive_time": "1",
    "net.ipv4.tcp_keepalive_intvl": "1",
    "net.ipv4.tcp_keepalive_probes": "2",
}
RETRANSMISSION_LIMIT = "net.ipv4.tcp_retries2"
EDGE_SYSCTLS = {**UPSTREAM_KEEPALIVE_SYSCTLS, RETRANSMISSION_LIMIT: "3"}
L7_SYSCTLS = {**UPSTREAM_KEEPALIVE_SYSCTLS, RETRANSMISSION_LIMIT: "2"}


def nginx_rollout(order: str, failure_action: str) -> RolloutPolicy:
    """One task at a time, watched for as long as nginx takes to look unhealthy."""
    return RolloutPolicy(
        parallelism=NGINX_PARALLELISM,
        delay=Duration(0),
        order=order,
        monitor=NGINX_HEALTH.time_to_unhealthy,
        failure_action=failure_action,
    )


def nginx_config(
    service: str, rendered: str, path: str, opts: pulumi.ResourceOptions
) -> docker.ServiceTaskSpecContainerSpecConfigArgs:
    """A Swarm config holding ``rendered``, mounted at ``path``.

    Swarm configs are immutable and cannot be deleted while in use: a new
    content gets a new resource (named by its hash), the service moves to it,
    and only then does Pulumi delete the old one.
    """
    config = docker.ServiceConfig(
        nginx_config_name(service, content_hash(rendered)),
        data=base64.b64encode(rendered.encode()).decode(),
        opts=opts,
    )
    return docker.ServiceTaskSpecContainerSpecConfigArgs(config_id=config.id, config_name=config.name, file_name=path)
