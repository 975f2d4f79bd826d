"""Whether overlaySubnet holds every address Swarm gives out on the stack's overlay network."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from settings.reader import ConfigReader
from swarm.values import NGINX_PARALLELISM

# Docker's IPAM keeps a subnet's network and broadcast addresses (libnetwork
# ipam/allocator.go insertBitMask), and Swarm takes one for the network's
# gateway (swarmkit manager/allocator/cnmallocator/networkallocator.go
# allocatePools, now in moby's libnetwork/cnmallocator).
RESERVED = 3
# Each node running a task on the network gets an address on it for its load
# balancer (swarmkit manager/allocator/network.go allocateNode); the edge runs
# a task on every node.
PER_NODE = 2

KEYS = (
    "overlaySubnet",
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
    """Addresses the overlay needs on a one-node swarm, by what takes them."""

    reserved: int
    app_tasks: int
    nginx_tasks: int
    virtual_ips: int
    node: int

    @property
    def total(self) -> int:
        return self.reserved + self.app_tasks + self.nginx_tasks + self.virtual_ips + self.node


def address_needs(parsed: Mapping[str, Any]) -> AddressNeeds:
    """What a one-node swarm takes at the peak of a rollout, with ``parsed`` the stack's keys (KEYS)."""

    def extra(prefix: str, replicas: int) -> int:
        # A start-first step runs its new tasks beside the old ones; a task
        # gives its address back once it has stopped (allocator/network.go).
        if parsed[f"{prefix}Order"] != "start-first":
            return 0
        parallelism: int = parsed[f"{prefix}Parallelism"]
        return min(parallelism, replicas)

    def pool(replicas: int) -> int:
        return replicas + max(extra("update", replicas), extra("rollback", replicas))

    app_tasks = pool(parsed["realReplicas"]) + (pool(parsed["backupReplicas"]) if parsed["backupEnabled"] else 0)
    # The edge is global: its task on the node is counted with the node; with
    # ingress it also starts a new task before stopping the old one.
    edge_extra = NGINX_PARALLELISM if parsed["publishMode"] == "ingress" else 0
    nginx_tasks = parsed["nginxReplicas"] + NGINX_PARALLELISM + edge_extra
    # A virtual IP on each of a service's networks unless it is dnsrr (swarmkit
    # cnmallocator AllocateService): each pool with endpointMode vip, and the
    # edge always (its published ports need one); the L7 tier is dnsrr.
    pool_vips = (1 + (1 if parsed["backupEnabled"] else 0)) if parsed["endpointMode"] == "vip" else 0
    return AddressNeeds(RESERVED, app_tasks, nginx_tasks, pool_vips + 1, PER_NODE)


def check_overlay(r: ConfigReader) -> None:
    """overlaySubnet must hold the stack at the peak of a start-first rollout on a one-node swarm."""
    if not r.all_parsed(*KEYS):
        return
    subnet = ipaddress.IPv4Network(r.parsed["overlaySubnet"])
    needs = address_needs(r.parsed)
    fits = 32 - math.ceil(math.log2(needs.total))
    r.require(
        needs.total <= subnet.num_addresses,
        "overlaySubnet",
        f"{subnet} has {subnet.num_addresses} addresses; the stack needs {needs.total} on a one-node swarm"
        f" ({needs.reserved} kept by Docker, {needs.app_tasks} for app tasks and {needs.nginx_tasks} for nginx tasks"
        f" at the peak of a start-first rollout, {needs.virtual_ips} virtual IP(s), {needs.node} per node)"
        f" and {PER_NODE} more per further node; must be a /{fits} or larger",
    )
