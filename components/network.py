"""The attachable overlay network that nginx and both app pools share."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.base import child_options, component_type


class OverlayNetwork(pulumi.ComponentResource):
    """Attachable so that one-off containers (debugging, smoke tests) can join it."""

    id: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(component_type("OverlayNetwork"), name, None, opts)
        network = docker.Network(name, driver="overlay", attachable=True, opts=child_options(self, opts))
        self.id = network.id
        self.name = network.name
        self.register_outputs({"id": self.id, "name": self.name})
