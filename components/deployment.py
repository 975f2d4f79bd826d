"""The top component: network, real and backup pools, the L7 nginx tier and the edge in front."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.app_pool import AppPool, AppPoolArgs
from components.base import child_options, component_type
from components.edge import Edge, EdgeArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import OverlayNetwork
from nginx.config import NginxSite, UpstreamTuning, nginx_config_args
from nginx.edge import edge_config_args
from settings.tls import Certificate
from swarm.image_pin import pin
from swarm.naming import BACKUP, REAL, edge_name, network_name, nginx_name, pool_alias, pool_name
from swarm.rollout_plan import followup_policy
from swarm.values import Duration, HealthCheck, RolloutPolicy


@dataclass(frozen=True)
class ZeroDowntimeDeploymentArgs:
    app_name: str
    """Prefix of the pools' network aliases (webapp-real, webapp-backup)."""
    image: str
    app_port: int
    public_host: str
    real_replicas: int
    backup_replicas: int | None
    """None: no backup pool."""
    health: HealthCheck
    update: RolloutPolicy
    rollback: RolloutPolicy
    stop_grace_period: Duration
    endpoint_mode: str
    spread_over: str
    converge_timeout: Duration
    nginx_image: str
    nginx_replicas: int
    edge_image: str
    overlay_subnet: str
    published_port: int
    publish_mode: str
    upstream: UpstreamTuning
    https_port: int
    certificate: Certificate | None
    """None: plain HTTP only."""


class ZeroDowntimeDeployment(pulumi.ComponentResource):
    url: str
    network_name: pulumi.Output[str]
    real_service_name: pulumi.Output[str]
    backup_service_name: pulumi.Output[str] | None
    nginx_service_name: pulumi.Output[str]
    nginx_config_sha256: str
    edge_service_name: pulumi.Output[str]
    edge_config_sha256: str
    rollout_plan: dict[str, dict[str, Any]]

    def __init__(self, name: str, args: ZeroDowntimeDeploymentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(component_type("ZeroDowntimeDeployment"), name, None, opts)
        # Pinned here, once: every service is declared as Swarm will store it (see swarm/image_pin.py).
        invoke = pulumi.InvokeOptions(parent=self)
        app_image, nginx_image, edge_image = (pin(i, invoke) for i in (args.image, args.nginx_image, args.edge_image))
        network = OverlayNetwork(network_name(name), args.overlay_subnet, opts=child_options(self, opts))

        def pool(role: str, replicas: int, after: list[pulumi.Resource], gated: bool, update: RolloutPolicy) -> AppPool:
            return AppPool(
                pool_name(name, role),
                AppPoolArgs(
                    role=role,
                    alias=pool_alias(args.app_name, role),
                    image=app_image,
                    replicas=replicas,
                    port=args.app_port,
                    health=args.health,
                    update=update,
                    rollback=args.rollback,
                    stop_grace_period=args.stop_grace_period,
                    endpoint_mode=args.endpoint_mode,
                    spread_over=args.spread_over,
                    converge_timeout=args.converge_timeout,
                    network_id=network.id,
                    gated=gated,
                ),
                opts=child_options(self, opts, after),
            )

        # The real pool rolls first and its gate holds everything after it
        # until Swarm has finished (or fails the run when Swarm rolled it back):
        # the backup pool is never rolling at the same time, and a bad image
        # never reaches it. (pulumi-docker alone would go on early; see swarm/rollout_gate.py.)
        real = pool(REAL, args.real_replicas, [], gated=True, update=args.update)
        # The real pool was the canary: its whole monitor window has passed
        # before the backup pool gets the image (see followup_policy).
        backup = (
            pool(BACKUP, args.backup_replicas, [real], gated=False, update=followup_policy(args.update, args.health))
            if args.backup_replicas is not None
            else None
        )
        pools = [real] + ([backup] if backup else [])
        https_port = args.https_port if args.certificate is not None else None
        l7_alias = nginx_name(args.app_name)
        load_balancer = LoadBalancer(
            nginx_name(name),
            LoadBalancerArgs(
                image=nginx_image,
                replicas=args.nginx_replicas,
                alias=l7_alias,
                config=nginx_config_args(
                    args.app_name,
                    args.app_port,
                    args.endpoint_mode,
                    backup is not None,
                    args.upstream,
                    NginxSite(args.public_host, args.overlay_subnet, https_port),
                ),
                certificate=args.certificate,
                stop_grace_period=args.stop_grace_period,
                spread_over=args.spread_over,
                converge_timeout=args.converge_timeout,
                network_id=network.id,
            ),
            opts=child_options(self, opts, pools),
        )
        # After the tier: on a first deploy the edge's first requests find it.
        edge = Edge(
            edge_name(name),
            EdgeArgs(
                image=edge_image,
                published_port=args.published_port,
                published_https_port=https_port,
                publish_mode=args.publish_mode,
                config=edge_config_args(l7_alias, tls=https_port is not None, stop_grace_period=args.stop_grace_period),
                stop_grace_period=args.stop_grace_period,
                converge_timeout=args.converge_timeout,
                network_id=network.id,
            ),
            opts=child_options(self, opts, [load_balancer]),
        )
        self.url = (
            f"https://{args.public_host}:{https_port}/"
            if https_port is not None
            else f"http://{args.public_host}:{args.published_port}/"
        )
        self.network_name = network.name
        self.real_service_name = real.service_name
        self.backup_service_name = backup.service_name if backup else None
        self.nginx_service_name = load_balancer.service_name
        self.nginx_config_sha256 = load_balancer.config_sha256
        self.edge_service_name = edge.service_name
        self.edge_config_sha256 = edge.config_sha256
        self.rollout_plan = {p.rollout_plan["pool"]: p.rollout_plan for p in pools}
        self.register_outputs(self.outputs)

    @property
    def outputs(self) -> dict[str, Any]:
        """The stack's outputs: registered here and exported by __main__.py under the same names."""
        return {
            "url": self.url,
            "network_name": self.network_name,
            "real_service_name": self.real_service_name,
            "backup_service_name": self.backup_service_name,
            "nginx_service_name": self.nginx_service_name,
            "nginx_config_sha256": self.nginx_config_sha256,
            "edge_service_name": self.edge_service_name,
            "edge_config_sha256": self.edge_config_sha256,
            "rollout_plan": self.rollout_plan,
        }
