"""The top component: network, real and backup pools, and nginx in front."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from components.app_pool import AppPool, AppPoolArgs
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import OverlayNetwork
from components.nginx_config import config_args_from_settings, pool_alias
from components.settings import StackSettings


@dataclass(frozen=True)
class ZeroDowntimeDeploymentArgs:
    settings: StackSettings


class ZeroDowntimeDeployment(pulumi.ComponentResource):
    def __init__(self, name: str, args: ZeroDowntimeDeploymentArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("swarm-zero-downtime:index:ZeroDowntimeDeployment", name, None, opts)
        s = args.settings
        network = OverlayNetwork(f"{name}-net", opts=pulumi.ResourceOptions(parent=self))

        def pool(role: str, replicas: int, depends_on: list[pulumi.Resource]) -> AppPool:
            return AppPool(
                f"{name}-{role}",
                AppPoolArgs(
                    role=role,
                    alias=pool_alias(s.app_name, role),
                    image=s.image,
                    replicas=replicas,
                    port=s.app_port,
                    health=s.health,
                    update=s.update,
                    rollback=s.rollback,
                    stop_grace_period=s.stop_grace_period,
                    endpoint_mode=s.endpoint_mode,
                    converge_timeout=s.converge_timeout,
                    network_id=network.id,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
            )

        self.real = pool("real", s.real_replicas, [])
        # The backup pool rolls only once the real pool has converged, so the
        # two pools are never updating at the same time.
        self.backup = pool("backup", s.backup_replicas, [self.real.service]) if s.backup_enabled else None
        self.pools = [self.real] + ([self.backup] if self.backup else [])
        self.load_balancer = LoadBalancer(
            f"{name}-nginx",
            LoadBalancerArgs(
                nginx=s.nginx,
                config=config_args_from_settings(s),
                converge_timeout=s.converge_timeout,
                network_id=network.id,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[p.service for p in self.pools]),
        )
        self.network_name = network.name
        self.url = f"http://{s.public_host}:{s.nginx.published_port}/"
        self.register_outputs(
            {
                "url": self.url,
                "network_name": self.network_name,
                "real_service_name": self.real.service_name,
                "backup_service_name": self.backup.service_name if self.backup else None,
                "nginx_service_name": self.load_balancer.service_name,
                "nginx_config_sha256": self.load_balancer.config_sha256,
            }
        )
