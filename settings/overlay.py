"""Whether overlaySubnet and edgeSubnet hold every address Swarm gives out on the stack's two networks."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from swarm_zero_downtime.settings.reader import ConfigReader
from swarm_zero_downtime.swarm.rollout_plan import extra_tasks
from swarm_zero_downtime.swarm.values import NGINX_PARALLELISM

# Docker's IPAM keeps a subnet's network and broadcast addresses (libnetwork
# ipam/allocator.go insertBitMask), and Swarm takes one for the network's
# gateway (swarmkit manager/allocator/cnmallocator/networkallocator.go
# allocatePools, now in moby's libnetwork/cnmallocator).
RESERVED = 3
# Each node running a task on a network gets an address on it for its load
# balancer (swarmkit manager/allocator/network.go allocateNode).
LOAD_BALANCER = 1

KEYS = (
    "overlaySubnet",
    "edgeSubnet",
    "realReplicas",
    "backupEnabled",
    "backupReplicas",
    "endpointMode",
    "nginxReplicas",
    "publishMode",
    "updateParallelism",
    "updateOrder",
    "rollbackParallelism",
    "rollbackOrder",
)


@dataclass(frozen=True)
class AddressNeeds:
    """Addresses one network needs on a one-node swarm, by what takes them."""

    reserved: int
    app_tasks: int
    nginx_tasks: int
    virtual_ips: int
    node: int
    """Taken on each node: its load balancer, and its edge task on the edge network."""

    @property
    def total(self) -> int:
        return self.reserved + self.app_tasks + self.nginx_tasks + self.virtual_ips + self.node


def app_network_needs(parsed: Mapping[str, Any]) -> AddressNeeds:
    """The app network (the L7 tier and both pools) at the peak of a rollout, with ``parsed`` the stack's keys."""

    def extra(prefix: str, replicas: int) -> int:
        # A start-first step runs its new tasks beside the old ones; a task
        # gives its address back once it has stopped (allocator/network.go).
        return extra_tasks(parsed[f"{prefix}Order"], parsed[f"{prefix}Parallelism"], replicas)

    def pool(replicas: int) -> int:
        return replicas + max(extra("update", replicas), extra("rollback", replicas))

    app_tasks = pool(parsed["realReplicas"]) + (pool(parsed["backupReplicas"]) if parsed["backupEnabled"] else 0)
    # A virtual IP on each of a service's networks unless it is dnsrr (swarmkit
    # cnmallocator AllocateService): each pool with endpointMode vip; the L7 tier is dnsrr.
    pool_vips = (1 + (1 if parsed["backupEnabled"] else 0)) if parsed["endpointMode"] == "vip" else 0
    return AddressNeeds(RESERVED, app_tasks, _l7_tasks(parsed), pool_vips, LOAD_BALANCER)


def edge_network_needs(parsed: Mapping[str, Any]) -> AddressNeeds:
    """The edge network (the edge and the L7 tier) at the peak of a rollout."""
    # The edge is global: its task on the node is counted with the node; with
    # ingress it also starts a new task before stopping the old one.
    edge_extra = NGINX_PARALLELISM if parsed["publishMode"] == "ingress" else 0
    # The edge's virtual IP: its published ports need one.
    return AddressNeeds(RESERVED, 0, _l7_tasks(parsed) + edge_extra, 1, LOAD_BALANCER + 1)


def _l7_tasks(parsed: Mapping[str, Any]) -> int:
    replicas: int = parsed["nginxReplicas"]
    return replicas + NGINX_PARALLELISM


def check_overlay(r: ConfigReader) -> None:
    """Each network's subnet must hold the stack at the peak of a start-first rollout on a one-node swarm."""
    if not r.all_parsed(*KEYS):
        return
    app, edge = (ipaddress.IPv4Network(r.parsed[key]) for key in ("overlaySubnet", "edgeSubnet"))
    # Swarm allocates both from one address space (libnetwork ipam "Pool overlaps with other one on this address space").
    r.require(
        not app.overlaps(edge),
        "edgeSubnet",
        f"{edge} overlaps overlaySubnet {app}: the two networks need subnets of their own",
    )
    _require_room(r, "overlaySubnet", "app network", app, app_network_needs(r.parsed))
    _require_room(r, "edgeSubnet", "edge network", edge, edge_network_needs(r.parsed))


def _require_room(r: ConfigReader, key: str, network: str, subnet: ipaddress.IPv4Network, needs: AddressNeeds) -> None:
    fits = 32 - math.ceil(math.log2(needs.total))
    tasks = [f"{needs.app_tasks} for app tasks"] if needs.app_tasks else []
    tasks.append(f"{needs.nginx_tasks} for nginx tasks")
    r.require(
        needs.total <= subnet.num_addresses,
        key,
        f"{subnet} has {subnet.num_addresses} addresses; the {network} needs {needs.total} on a one-node swarm"
        f" ({needs.reserved} kept by Docker, {' and '.join(tasks)} at the peak of a start-first rollout,"
        f" {needs.virtual_ips} virtual IP(s), {needs.node} per node) and {needs.node} more per further node;"
        f" must be a /{fits} or larger",
    )
