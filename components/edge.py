"""The edge: nginx on every node that owns the published ports and hands each
connection to the L7 tier. Its config holds no failover tuning (nginx/edge.py),
so ordinary changes of the stack never restart it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from swarm_zero_downtime.components.base import child_options, component_type, rollout_gate, spec_label
from swarm_zero_downtime.components.nginx_service import EDGE_SYSCTLS, NGINX_HEALTH, nginx_config, nginx_rollout
from swarm_zero_downtime.nginx.edge import MIN_SHUTDOWN, EdgeConfigArgs, render_edge_config, shortest_grace
from swarm_zero_downtime.nginx.edge_drain import NO_DRAIN, tls_connection_lifetime
from swarm_zero_downtime.nginx.edge_start_gate import start_gate_command
from swarm_zero_downtime.nginx.render import content_hash
from swarm_zero_downtime.swarm.rollout_plan import describe_reservations, extra_tasks
from swarm_zero_downtime.swarm.service_spec import (
    http_healthcheck,
    rollback_config,
    service_options,
    task_resources,
    update_config,
)
from swarm_zero_downtime.swarm.values import NGINX_PARALLELISM, Duration, TaskResources

CONFIG_PATH = "/etc/nginx/nginx.conf"

# The edge is the one task on its node that holds the published ports: while
# it is down, the node refuses every connection. Without a restart policy
# pulumi-docker sends none (kreuzwerker v4.5.0 createRestartPolicy: `{}`) and
# Swarm waits 5 s before it replaces a task that died (swarmkit
# manager/orchestrator/restart/restart.go, defaults.Service.Task.Restart.Delay).
# Given the block, pulumi-docker sends every field, zero when unset, and reads
# them back as "0s" and 0: all four are declared, so that the next `pulumi up`
# finds nothing changed. MaxAttempts 0 and Window 0 are Swarm's "no limit".
# Updates do not wait for this delay (swarmkit updater.go: DelayStart with 0).
RESTART_AT_ONCE = docker.ServiceTaskSpecRestartPolicyArgs(condition="any", delay="0s", max_attempts=0, window="0s")


def edge_order(publish_mode: str) -> str:
    # A host-published port is bound by one task per node: a second task
    # cannot start before the old one lets go, so only ingress can start first.
    return "start-first" if publish_mode == "ingress" else "stop-first"


# Whatever the publish mode: no drain keeps a port that the new edge no longer has.
PORT_GONE = (
    "; moving a published port or turning TLS off leaves the old port refusing for good: put the new port"
    " in a load balancer's pool, or take its HTTPS frontend out, before the `up` (see docs/edge-and-l7-tier.md)"
)


def describe_edge_rollout(
    publish_mode: str, resources: TaskResources | None = None, drain: Duration = NO_DRAIN, tls: bool = False
) -> str:
    """What an update of the edge does to traffic, and what it reserves on each node: shown at preview time."""
    per_task = (resources or TaskResources()).reservations
    extra = extra_tasks(edge_order(publish_mode), NGINX_PARALLELISM, 1)
    reservations = describe_reservations(per_task, per_task.times(extra), "its task on each node", extra)
    if publish_mode == "ingress":
        return (
            "rollout of the edge: one task per node, start-first behind the routing mesh; no gap"
            + PORT_GONE
            + reservations
        )
    return (
        "rollout of the edge: one task per node, stop-first (a host-published port is bound by one task):"
        " each node refuses connections while its edge restarts, about a second (see docs/rollouts.md);"
        + _describe_drain(drain, tls)
        + " it restarts only when edgeImage, a published port, publishMode, TLS on/off, clientTimeout,"
        " clientConnectionsPerAddress, edgeDrain or edgeResources change" + PORT_GONE + reservations
    )


def _describe_drain(drain: Duration, tls: bool) -> str:
    lifetime = tls_connection_lifetime(drain)
    if lifetime is None:
        return ""
    passed_through = (
        f" HTTPS through a load balancer in TCP mode: the L7 tier ends each TLS connection once it is {lifetime.text}"
        f" old, so the load balancer must take the node out within {lifetime.text}, less twice your longest request;"
        if tls
        else ""
    )
    return (
        f" first each stopping edge drains for {drain.text}: its health path on the published port answers 503"
        f" while it serves on, then nginx stops. That removes the gap only for clients behind a load balancer"
        f" whose HTTP check of that path (its interval times its fall count) takes the node out within {drain.text};"
        " without one the gap stays, and each node's rollout takes that much longer;" + passed_through
    )


@dataclass(frozen=True)
class EdgeArgs:
    image: str
    published_port: int
    published_https_port: int | None
    """None: no TLS port."""
    publish_mode: str
    config: EdgeConfigArgs
    stop_grace_period: Duration
    converge_timeout: Duration
    network_id: pulumi.Input[str]
    """The edge network: the edge reaches the L7 tier there, and nothing else."""
    resources: TaskResources = field(default_factory=TaskResources)
    """CPU and memory of the task on each node; the default sets none."""
    drain: Duration = NO_DRAIN
    """edgeDrain: how long a stopping edge fails its public health check and serves on (nginx/edge_drain.py)."""


class Edge(pulumi.ComponentResource):
    service_name: pulumi.Output[str]
    config_sha256: str

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(component_type("Edge"), name, None, opts)
        child = child_options(self, opts)
        rendered = render_edge_config(args.config)
        self.config_sha256 = content_hash(rendered)
        ports = [(args.config.http_port, args.published_port)]
        if args.config.https_port is not None and args.published_https_port is not None:
            ports.append((args.config.https_port, args.published_https_port))
        service = docker.Service(
            name,
            labels=[spec_label(args)],
            task_spec=docker.ServiceTaskSpecArgs(
                container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                    image=args.image,
                    commands=start_gate_command(args.config.l7_host, drain=args.drain),
                    configs=[nginx_config(name, rendered, CONFIG_PATH, child)],
                    healthcheck=http_healthcheck(args.config.health_port, NGINX_HEALTH),
                    stop_signal="SIGQUIT",
                    stop_grace_period=args.stop_grace_period.text,
                    sysctl=EDGE_SYSCTLS,
                ),
                networks_advanceds=[docker.ServiceTaskSpecNetworksAdvancedArgs(id=args.network_id)],
                resources=task_resources(args.resources),
                restart_policy=RESTART_AT_ONCE,
            ),
            # One per node: with host publishing every node answers on the port.
            mode=docker.ServiceModeArgs(global_=True),
            endpoint_spec=docker.ServiceEndpointSpecArgs(
                # pulumi-docker accepts published ports only with a VIP; with
                # host publishing nothing ever connects through it.
                mode="vip",
                ports=[
                    docker.ServiceEndpointSpecPortArgs(
                        target_port=target, published_port=published, publish_mode=args.publish_mode
                    )
                    for target, published in ports
                ],
            ),
            update_config=update_config(nginx_rollout(edge_order(args.publish_mode), "rollback")),
            rollback_config=rollback_config(nginx_rollout(edge_order(args.publish_mode), "pause")),
            # No converge_config: pulumi-docker's wait knows only replicated
            # services and fails a global one ("no replica count"). The gate waits.
            # A replacement (a ForceNew field changed, such as sysctl) cannot
            # create first: the old service holds the published ports.
            opts=service_options(
                pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(delete_before_replace=True))
            ),
        )
        pulumi.log.info(
            describe_edge_rollout(args.publish_mode, args.resources, args.drain, args.published_https_port is not None),
            resource=service,
        )
        if args.stop_grace_period < shortest_grace(args.drain):
            after_drain = f" after its edgeDrain of {args.drain.text}" if args.drain.nanos else ""
            pulumi.log.warn(
                f"stopGracePeriod {args.stop_grace_period.text} leaves the edge's nginx less than"
                f" {MIN_SHUTDOWN.text} to close its connections{after_drain} before pulumi-docker's delete deadline:"
                " replacing or destroying the edge can fail on `context deadline exceeded`; give it at least"
                f" {shortest_grace(args.drain).text}",
                resource=service,
            )
        rollout_gate(name, service, args, args.image, None, args.converge_timeout, child_options(self, opts, [service]))
        self.service_name = service.name
        self.register_outputs({"service_name": self.service_name, "config_sha256": self.config_sha256})
