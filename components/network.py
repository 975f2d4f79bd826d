"""An overlay network of the stack: the app network, or the edge network in front of it."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_docker as docker

from swarm_zero_downtime.components.base import child_options, component_type


class OverlayNetwork(pulumi.ComponentResource):
    """``attachable``: one-off containers (debugging, smoke tests) can join it."""

    id: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, subnet: str, attachable: bool, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(component_type("OverlayNetwork"), name, None, opts)
        # A declared subnet, not Docker's pick: the L7 tier trusts client
        # addresses from the edge network's subnet only, and its config must
        # name it. The gateway is declared too, as Docker would pick it (the
        # first address): pulumi-docker reads the gateway back and would
        # otherwise see a change to ipam_config, which replaces the network.
        gateway = str(next(ipaddress.IPv4Network(subnet).hosts()))
        network = docker.Network(
            name,
            driver="overlay",
            attachable=attachable,
            ipam_configs=[docker.NetworkIpamConfigArgs(subnet=subnet, gateway=gateway)],
            opts=child_options(self, opts),
        )
        self.id = network.id
        self.name = network.name
        self.register_outputs({"id": self.id, "name": self.name})
