"""One pool of the app: a replicated Swarm service behind a stable network alias."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_docker as docker

from components.resource_options import child_options
from components.rollout_plan import plan_rollout
from components.settings import HealthCheck, RolloutPolicy
from components.swarm_specs import converge_config, http_healthcheck, rollback_config, update_config
from components.validation import Duration

POOL_LABEL = "swarm-zero-downtime.pool"


@dataclass(frozen=True)
class AppPoolArgs:
    role: str
    """"real" or "backup": names the hostnames (app-real-1) and the service label."""
    alias: str
    """Network alias nginx resolves; stable even when the service is replaced."""
    image: str
    replicas: int
    port: int
    health: HealthCheck
    update: RolloutPolicy
    rollback: RolloutPolicy
    stop_grace_period: Duration
    endpoint_mode: str
    converge_timeout: Duration
    network_id: pulumi.Input[str]


class AppPool(pulumi.ComponentResource):
    def __init__(self, name: str, args: AppPoolArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("swarm-zero-downtime:index:AppPool", name, None, opts)
        # No fixed service name: Pulumi's auto-naming lets a replacement be
        # created before the old service is deleted, while nginx keeps finding
        # both through the alias.
        self.service = docker.Service(
            name,
            labels=[docker.ServiceLabelArgs(label=POOL_LABEL, value=args.role)],
            task_spec=docker.ServiceTaskSpecArgs(
                container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                    image=args.image,
                    hostname=f"app-{args.role}-{{{{.Task.Slot}}}}",
                    healthcheck=http_healthcheck(args.port, args.health),
                    stop_grace_period=args.stop_grace_period.text,
                ),
                networks_advanceds=[
                    docker.ServiceTaskSpecNetworksAdvancedArgs(id=args.network_id, aliases=[args.alias]),
                ],
            ),
            mode=docker.ServiceModeArgs(replicated=docker.ServiceModeReplicatedArgs(replicas=args.replicas)),
            update_config=update_config(args.update),
            rollback_config=rollback_config(args.rollback),
            endpoint_spec=docker.ServiceEndpointSpecArgs(mode=args.endpoint_mode),
            converge_config=converge_config(args.converge_timeout),
            opts=child_options(self, opts),
        )
        self.rollout_plan = plan_rollout(args.role, args.replicas, args.update, args.health)
        pulumi.log.info(self.rollout_plan.describe(), resource=self.service)
        if self.rollout_plan.max_seconds > args.converge_timeout.seconds:
            pulumi.log.warn(
                f"convergeTimeout {args.converge_timeout.text} is shorter than the longest"
                f" ({self.rollout_plan.max_seconds:g}s) rollout of the {args.role} pool:"
                " `pulumi up` would fail while Swarm is still rolling",
                resource=self.service,
            )
        self.service_name: pulumi.Output[str] = self.service.name
        self.register_outputs({"service_name": self.service_name, "rollout_plan": self.rollout_plan.to_dict()})
