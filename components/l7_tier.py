"""The L7 nginx tier: the generated config, between the edge and app networks, rolled start-first."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from swarm_zero_downtime.components.base import child_options, component_type, rollout_gate, spec_label
from swarm_zero_downtime.components.nginx_service import L7_SYSCTLS, NGINX_HEALTH, nginx_config, nginx_rollout
from swarm_zero_downtime.nginx.l7_health import l7_health_command
from swarm_zero_downtime.nginx.l7_tier import TLS_SECRET_FILE, L7TierConfigArgs, render_l7_tier_config
from swarm_zero_downtime.nginx.render import content_hash
from swarm_zero_downtime.settings.tls import Certificate
from swarm_zero_downtime.swarm.naming import L7_TIER, TIER_LABEL, tls_secret_name
from swarm_zero_downtime.swarm.rollout_plan import plan_rollout
from swarm_zero_downtime.swarm.service_spec import (
    converge_config,
    placement,
    rollback_config,
    service_options,
    shell_healthcheck,
    task_resources,
    update_config,
)
from swarm_zero_downtime.swarm.values import Duration, TaskResources

CONFIG_PATH = "/etc/nginx/conf.d/default.conf"
# nginx's graceful shutdown: it stops accepting, finishes in-flight requests, exits.
STOP_SIGNAL = "SIGQUIT"


# Nothing publishes a port of this tier, so a new task can always start (and
# turn healthy, and join DNS) before an old one is asked to drain.
ORDER = "start-first"


@dataclass(frozen=True)
class L7TierArgs:
    image: str
    replicas: int
    alias: str
    """Network alias the edge resolves (tasks.<alias>) on the edge network."""
    config: L7TierConfigArgs
    certificate: Certificate | None
    stop_grace_period: Duration
    """How long a draining task may finish in-flight requests: as long as the app gets."""
    spread_over: str
    converge_timeout: Duration
    edge_network_id: pulumi.Input[str]
    app_network_id: pulumi.Input[str]
    resources: TaskResources = field(default_factory=TaskResources)
    """CPU and memory of each task; the default sets none."""


# The token stacks were first deployed with: every child's URN carries it, so a new
# token would replace the tier and its config and secret (tests/unit/components/test_urn_stability.py).
TYPE_TOKEN = component_type("LoadBalancer")


class L7Tier(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    config_sha256: str

    def __init__(self, name: str, args: L7TierArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        child = child_options(self, opts)
        rendered = render_l7_tier_config(args.config)
        self.config_sha256 = content_hash(rendered)
        secrets = []
        if args.certificate is not None:
            # Like the config: a new certificate is a new Swarm secret, the tier
            # rolls onto it, and only then is the old one deleted.
            secret = docker.Secret(
                tls_secret_name(name, args.certificate.sha256),
                data=pulumi.Output.secret(base64.b64encode(args.certificate.pem.encode()).decode()),
                opts=child,
            )
            secrets.append(
                docker.ServiceTaskSpecContainerSpecSecretArgs(
                    secret_id=secret.id, secret_name=secret.name, file_name=TLS_SECRET_FILE, file_mode=0o400
                )
            )
        service = docker.Service(
            name,
            # A service label, not a task's: changing it restarts no task.
            labels=[spec_label(args), docker.ServiceLabelArgs(label=TIER_LABEL, value=L7_TIER)],
            task_spec=docker.ServiceTaskSpecArgs(
                container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                    image=args.image,
                    configs=[nginx_config(name, rendered, CONFIG_PATH, child)],
                    secrets=secrets or None,
                    healthcheck=shell_healthcheck(l7_health_command(args.config), NGINX_HEALTH),
                    stop_signal=STOP_SIGNAL,
                    stop_grace_period=args.stop_grace_period.text,
                    sysctl=L7_SYSCTLS,
                ),
                networks_advanceds=[
                    docker.ServiceTaskSpecNetworksAdvancedArgs(id=args.edge_network_id, aliases=[args.alias]),
                    docker.ServiceTaskSpecNetworksAdvancedArgs(id=args.app_network_id),
                ],
                placement=placement(args.spread_over),
                resources=task_resources(args.resources),
            ),
            mode=docker.ServiceModeArgs(replicated=docker.ServiceModeReplicatedArgs(replicas=args.replicas)),
            # dnsrr: the edge sees every task, so it can skip a dead or draining one.
            endpoint_spec=docker.ServiceEndpointSpecArgs(mode="dnsrr"),
            update_config=update_config(nginx_rollout(ORDER, "rollback")),
            rollback_config=rollback_config(nginx_rollout(ORDER, "pause")),
            converge_config=converge_config(args.converge_timeout),
            opts=service_options(child),
        )
        plan = plan_rollout(
            "L7 nginx",
            args.replicas,
            nginx_rollout(ORDER, "rollback"),
            NGINX_HEALTH,
            nginx_rollout(ORDER, "pause"),
            args.resources,
        )
        pulumi.log.info(plan.describe(), resource=service)
        # pulumi-docker calls an update done once every slot runs a task, even
        # mid-rollout, and misses a rollback it did not see: `pulumi up` ends
        # only when Swarm has finished the tier (see swarm/rollout_gate.py).
        rollout_gate(
            name, service, args, args.image, args.replicas, args.converge_timeout, child_options(self, opts, [service])
        )
        self.service_name = service.name
        self.register_outputs({"service_name": self.service_name, "config_sha256": self.config_sha256})
