"""nginx as a Swarm service, its config generated from nginx/default.conf.j2."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.base import child_options, component_type
from nginx.config import HEALTH_PATH, NGINX_PORT, NginxConfigArgs, content_hash, render_nginx_config
from swarm.naming import nginx_config_name
from swarm.service_spec import converge_config, http_healthcheck, rollback_config, update_config
from swarm.values import SECOND, Duration, HealthCheck, RolloutPolicy

CONFIG_PATH = "/etc/nginx/conf.d/default.conf"

# nginx starts in well under a second; these need no tuning per stack.
NGINX_HEALTH = HealthCheck(
    path=HEALTH_PATH,
    interval=Duration(2 * SECOND),
    timeout=Duration(2 * SECOND),
    retries=3,
    start_period=Duration(2 * SECOND),
)


def nginx_rollout(publish_mode: str, failure_action: str) -> RolloutPolicy:
    # A host-published port is bound by one task per node: a second task
    # cannot start before the old one lets go, so only ingress can start first.
    return RolloutPolicy(
        parallelism=1,
        delay=Duration(0),
        order="start-first" if publish_mode == "ingress" else "stop-first",
        monitor=NGINX_HEALTH.time_to_unhealthy,
        failure_action=failure_action,
    )


@dataclass(frozen=True)
class LoadBalancerArgs:
    image: str
    replicas: int
    published_port: int
    publish_mode: str
    config: NginxConfigArgs
    converge_timeout: Duration
    network_id: pulumi.Input[str]


class LoadBalancer(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    config_sha256: str

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(component_type("LoadBalancer"), name, None, opts)
        child = child_options(self, opts)
        rendered = render_nginx_config(args.config)
        self.config_sha256 = content_hash(rendered)
        # Swarm configs are immutable and cannot be deleted while in use: a new
        # content gets a new resource, the service moves to it, and only then
        # does Pulumi delete the old one.
        config = docker.ServiceConfig(
            nginx_config_name(name, self.config_sha256),
            data=base64.b64encode(rendered.encode()).decode(),
            opts=child,
        )
        service = docker.Service(
            name,
            task_spec=docker.ServiceTaskSpecArgs(
                container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                    image=args.image,
                    configs=[
                        docker.ServiceTaskSpecContainerSpecConfigArgs(
                            config_id=config.id, config_name=config.name, file_name=CONFIG_PATH
                        )
                    ],
                    healthcheck=http_healthcheck(NGINX_PORT, NGINX_HEALTH),
                ),
                networks_advanceds=[docker.ServiceTaskSpecNetworksAdvancedArgs(id=args.network_id)],
            ),
            mode=docker.ServiceModeArgs(replicated=docker.ServiceModeReplicatedArgs(replicas=args.replicas)),
            endpoint_spec=docker.ServiceEndpointSpecArgs(
                # pulumi-docker accepts published ports only with a VIP; with
                # host publishing nothing ever connects through it.
                mode="vip",
                ports=[
                    docker.ServiceEndpointSpecPortArgs(
                        target_port=NGINX_PORT,
                        published_port=args.published_port,
                        publish_mode=args.publish_mode,
                    )
                ],
            ),
            update_config=update_config(nginx_rollout(args.publish_mode, "rollback")),
            rollback_config=rollback_config(nginx_rollout(args.publish_mode, "pause")),
            converge_config=converge_config(args.converge_timeout),
            opts=child,
        )
        self.service_name = service.name
        self.register_outputs({"service_name": self.service_name, "config_sha256": self.config_sha256})
