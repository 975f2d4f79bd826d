"""What the edge and the L7 tier share: their health check and how a config is mounted."""

from __future__ import annotations

import base64

import pulumi
import pulumi_docker as docker

from nginx.config import HEALTH_PATH
from nginx.render import content_hash
from swarm.naming import nginx_config_name
from swarm.values import SECOND, Duration, HealthCheck, RolloutPolicy

# nginx starts in well under a second; these need no tuning per stack.
NGINX_HEALTH = HealthCheck(
    path=HEALTH_PATH,
    interval=Duration(2 * SECOND),
    timeout=Duration(2 * SECOND),
    retries=3,
    start_period=Duration(2 * SECOND),
)


def nginx_rollout(order: str, failure_action: str) -> RolloutPolicy:
    """One task at a time, watched for as long as nginx takes to look unhealthy."""
    return RolloutPolicy(
        parallelism=1,
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
