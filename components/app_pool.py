"""One pool of the app: a replicated Swarm service behind a stable network alias."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_docker as docker

from swarm_zero_downtime.components.app_secrets import SecretMount, secret_env, secret_refs
from swarm_zero_downtime.components.base import child_options, component_type, rollout_gate, spec_label
from swarm_zero_downtime.settings.process import AppProcess
from swarm_zero_downtime.swarm.naming import POOL_LABEL, task_hostname
from swarm_zero_downtime.swarm.rollout_plan import plan_rollout
from swarm_zero_downtime.swarm.service_spec import (
    converge_config,
    http_healthcheck,
    placement,
    rollback_config,
    service_options,
    task_resources,
    update_config,
)
from swarm_zero_downtime.swarm.values import Duration, HealthCheck, RolloutPolicy, TaskResources


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
    spread_over: str
    """Node label to spread tasks over; "" for Swarm's own spread."""
    converge_timeout: Duration
    network_id: pulumi.Input[str]
    process: AppProcess = field(default_factory=AppProcess)
    """Environment, command and stop signal; the defaults keep the image's."""
    resources: TaskResources = field(default_factory=TaskResources)
    """CPU and memory of each task; the default sets none."""
    gated: bool = False
    """Put a rollout gate after the service: what depends on the pool waits for Swarm to finish."""
    secrets: tuple[SecretMount, ...] = ()
    """The app's Swarm secrets, by id: no value reaches the pool (nor its spec label)."""


class AppPool(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    rollout_plan: dict[str, Any]

    def __init__(self, name: str, args: AppPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(component_type("AppPool"), name, None, opts)
        # No fixed service name: Pulumi's auto-naming lets a replacement be
        # created before the old service is deleted, while nginx keeps finding
        # both through the alias.
        service = docker.Service(
            name,
            labels=[docker.ServiceLabelArgs(label=POOL_LABEL, value=args.role), spec_label(args)],
            task_spec=docker.ServiceTaskSpecArgs(
                container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                    image=args.image,
                    # None when unset: a stack that sets none of these declares what it did before.
                    commands=list(args.process.command) or None,
                    args=list(args.process.args) or None,
                    env={**dict(args.process.env), **secret_env(args.secrets)} or None,
                    secrets=secret_refs(args.secrets),
                    stop_signal=args.process.stop_signal or None,
                    hostname=task_hostname(args.role),
                    healthcheck=http_healthcheck(args.port, args.health),
                    stop_grace_period=args.stop_grace_period.text,
                ),
                networks_advanceds=[
                    docker.ServiceTaskSpecNetworksAdvancedArgs(id=args.network_id, aliases=[args.alias]),
                ],
                placement=placement(args.spread_over),
                resources=task_resources(args.resources),
            ),
            mode=docker.ServiceModeArgs(replicated=docker.ServiceModeReplicatedArgs(replicas=args.replicas)),
            update_config=update_config(args.update),
            rollback_config=rollback_config(args.rollback),
            endpoint_spec=docker.ServiceEndpointSpecArgs(mode=args.endpoint_mode),
            converge_config=converge_config(args.converge_timeout),
            opts=service_options(child_options(self, opts)),
        )
        plan = plan_rollout(args.role, args.replicas, args.update, args.health, args.rollback, args.resources)
        pulumi.log.info(plan.describe(), resource=service)
        if plan.max_seconds > args.converge_timeout.seconds:
            pulumi.log.warn(
                f"convergeTimeout {args.converge_timeout.text} is shorter than the longest"
                f" ({plan.max_seconds:g}s) rollout of the {args.role} pool:"
                " `pulumi up` would fail while Swarm is still rolling",
                resource=service,
            )
        if args.gated:
            rollout_gate(
                name,
                service,
                args,
                args.image,
                args.replicas,
                args.converge_timeout,
                child_options(self, opts, [service]),
                # A new value is a new Swarm secret, not a new spec label: the gate waits for it by id.
                secret_ids=[m.secret_id for m in args.secrets],
            )
        self.service_name = service.name
        self.rollout_plan = plan.to_dict()
        self.register_outputs({"service_name": self.service_name, "rollout_plan": self.rollout_plan})
