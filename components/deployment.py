"""The top component: two networks, real and backup pools, the L7 nginx tier and the edge in front."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import pulumi

from swarm_zero_downtime.components.app_pool import AppPool, AppPoolArgs
from swarm_zero_downtime.components.app_secrets import app_secrets
from swarm_zero_downtime.components.base import child_options, component_type
from swarm_zero_downtime.components.edge import Edge, EdgeArgs
from swarm_zero_downtime.components.l7_tier import L7Tier, L7TierArgs
from swarm_zero_downtime.components.network import OverlayNetwork
from swarm_zero_downtime.components.release import release_step
from swarm_zero_downtime.nginx.edge import edge_config_args
from swarm_zero_downtime.nginx.l7_tier import NginxSite, l7_tier_config_args
from swarm_zero_downtime.settings import (
    AppSettings,
    NginxSettings,
    PoolSettings,
    ReleaseSettings,
    ResourceSettings,
    StackSettings,
    TlsSettings,
    project_defaults,
)
from swarm_zero_downtime.swarm.image_pin import pin
from swarm_zero_downtime.swarm.naming import (
    BACKUP,
    REAL,
    edge_name,
    edge_network_name,
    l7_tier_name,
    network_name,
    pool_alias,
    pool_name,
)
from swarm_zero_downtime.swarm.rollout_plan import followup_policy
from swarm_zero_downtime.swarm.values import HealthCheck, RolloutPolicy


@dataclass(frozen=True)
class ZeroDowntimeDeploymentArgs:
    """What the component deploys, grouped as the stack config's keys are (settings/).

    Made from checked config: ``from_settings(load_settings())`` here, and
    ``from_settings(load_settings_under("shop"))`` in a program of your own
    (docs/package.md). Every group defaults to what a stack that sets no key
    gets. A group built in code is taken as given, without the keys' checks.
    """

    app: AppSettings = field(default_factory=lambda: project_defaults().app)
    pools: PoolSettings = field(default_factory=lambda: project_defaults().pools)
    health: HealthCheck = field(default_factory=lambda: project_defaults().health)
    update: RolloutPolicy = field(default_factory=lambda: project_defaults().update)
    rollback: RolloutPolicy = field(default_factory=lambda: project_defaults().rollback)
    nginx: NginxSettings = field(default_factory=lambda: project_defaults().nginx)
    tls: TlsSettings = field(default_factory=lambda: project_defaults().tls)
    resources: ResourceSettings = field(default_factory=lambda: project_defaults().resources)
    release: ReleaseSettings = field(default_factory=lambda: project_defaults().release)

    @classmethod
    def from_settings(cls, settings: StackSettings) -> ZeroDowntimeDeploymentArgs:
        """Every group as a stack's config keys set it (``load_settings``, ``load_settings_under``)."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})


class ZeroDowntimeDeployment(pulumi.ComponentResource):
    url: str
    network_name: pulumi.Output[str]
    real_service_name: pulumi.Output[str]
    backup_service_name: pulumi.Output[str] | None
    l7_tier_service_name: pulumi.Output[str]
    l7_tier_config_sha256: str
    edge_service_name: pulumi.Output[str]
    edge_config_sha256: str
    rollout_plan: dict[str, dict[str, Any]]

    def __init__(self, name: str, args: ZeroDowntimeDeploymentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(component_type("ZeroDowntimeDeployment"), name, None, opts)
        # Pinned here, once: every service is declared as Swarm will store it (see swarm/image_pin.py).
        invoke = pulumi.InvokeOptions(parent=self)
        app, pools_, nginx, tls = args.app, args.pools, args.nginx, args.tls
        app_image, nginx_image, edge_image = (pin(i, invoke) for i in (app.image, nginx.image, nginx.edge_image))
        # Two networks, so that the L7 tier can trust the client address from
        # the edge alone: the app's tasks (and one-off containers) share only
        # the app network with it, and nothing but the edge and the tier can
        # join the edge network.
        network = OverlayNetwork(
            network_name(name), nginx.overlay_subnet, attachable=True, opts=child_options(self, opts)
        )
        edge_network = OverlayNetwork(
            edge_network_name(name), nginx.edge_subnet, attachable=False, opts=child_options(self, opts)
        )

        # Before the pools, which mount them; a new value is a new secret (see components/app_secrets.py).
        secrets = app_secrets(app.name, app.secrets, child_options(self, opts))

        def pool(role: str, replicas: int, after: list[pulumi.Resource], gated: bool, update: RolloutPolicy) -> AppPool:
            return AppPool(
                pool_name(name, role),
                AppPoolArgs(
                    role=role,
                    alias=pool_alias(app.name, role),
                    image=app_image,
                    replicas=replicas,
                    port=app.port,
                    health=args.health,
                    update=update,
                    rollback=args.rollback,
                    stop_grace_period=pools_.stop_grace_period,
                    endpoint_mode=pools_.endpoint_mode,
                    spread_over=pools_.spread_over,
                    converge_timeout=pools_.converge_timeout,
                    network_id=network.id,
                    process=app.process,
                    resources=args.resources.app,
                    gated=gated,
                    secrets=secrets,
                ),
                opts=child_options(self, opts, after),
            )

        # From the new image, before any pool takes it: a failed release leaves every pool as it was.
        release = release_step(app, args.release, app_image, network.id, secrets, child_options(self, opts))
        # The real pool rolls first and its gate holds everything after it
        # until Swarm has finished (or fails the run when Swarm rolled it back):
        # the backup pool is never rolling at the same time, and a bad image
        # never reaches it. (pulumi-docker alone would go on early; see swarm/rollout_gate.py.)
        real = pool(REAL, pools_.real_replicas, [release] if release else [], gated=True, update=args.update)
        # The real pool was the canary: its whole monitor window has passed
        # before the backup pool gets the image (see followup_policy).
        backup = (
            pool(BACKUP, pools_.backup_replicas, [real], gated=False, update=followup_policy(args.update, args.health))
            if pools_.backup_enabled
            else None
        )
        pools = [real] + ([backup] if backup else [])
        https_port = tls.https_port if tls.certificate is not None else None
        l7_alias = l7_tier_name(app.name)
        l7_tier = L7Tier(
            l7_tier_name(name),
            L7TierArgs(
                image=nginx_image,
                replicas=nginx.replicas,
                alias=l7_alias,
                config=l7_tier_config_args(
                    app.name,
                    app.port,
                    pools_.endpoint_mode,
                    backup is not None,
                    nginx.upstream,
                    NginxSite(app.public_host, nginx.edge_subnet, https_port, nginx.edge_drain),
                    nginx.clients,
                    nginx.protocols,
                ),
                certificate=tls.certificate,
                stop_grace_period=pools_.stop_grace_period,
                spread_over=pools_.spread_over,
                converge_timeout=pools_.converge_timeout,
                edge_network_id=edge_network.id,
                app_network_id=network.id,
                resources=args.resources.nginx,
            ),
            opts=child_options(self, opts, pools),
        )
        # After the tier: on a first deploy the edge's first requests find it.
        edge = Edge(
            edge_name(name),
            EdgeArgs(
                image=edge_image,
                published_port=nginx.published_port,
                published_https_port=https_port,
                publish_mode=nginx.publish_mode,
                config=edge_config_args(
                    l7_alias,
                    tls=https_port is not None,
                    stop_grace_period=pools_.stop_grace_period,
                    clients=nginx.clients,
                    publish_mode=nginx.publish_mode,
                    drain=nginx.edge_drain,
                ),
                stop_grace_period=pools_.stop_grace_period,
                converge_timeout=pools_.converge_timeout,
                network_id=edge_network.id,
                resources=args.resources.edge,
                drain=nginx.edge_drain,
            ),
            opts=child_options(self, opts, [l7_tier]),
        )
        self.url = (
            f"https://{app.public_host}:{https_port}/"
            if https_port is not None
            else f"http://{app.public_host}:{nginx.published_port}/"
        )
        self.network_name = network.name
        self.real_service_name = real.service_name
        self.backup_service_name = backup.service_name if backup else None
        self.l7_tier_service_name = l7_tier.service_name
        self.l7_tier_config_sha256 = l7_tier.config_sha256
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
            "l7_tier_service_name": self.l7_tier_service_name,
            "l7_tier_config_sha256": self.l7_tier_config_sha256,
            "edge_service_name": self.edge_service_name,
            "edge_config_sha256": self.edge_config_sha256,
            "rollout_plan": self.rollout_plan,
        }
