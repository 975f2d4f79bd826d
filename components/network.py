"""The attachable overlay network that nginx and both app pools share."""

from __future__ import annotations

from typing import Optional

import pulumi
import pulumi_docker as docker


class OverlayNetwork(pulumi.ComponentResource):
    """Attachable so that one-off containers (debugging, smoke tests) can join it."""

    def __init__(self, name: str, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("swarm-zero-downtime:index:OverlayNetwork", name, None, opts)
        network = docker.Network(
            name,
            driver="overlay",
            attachable=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.id: pulumi.Output[str] = network.id
        self.name: pulumi.Output[str] = network.name
        self.register_outputs({"id": self.id, "name": self.name})
