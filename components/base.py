"""What every component of this program shares: its type prefix and its children's options."""

from __future__ import annotations

import pulumi

# Pulumi type tokens of the components: <package>:<module>:<Type>.
TYPE_PREFIX = "swarm-zero-downtime:index:"


def component_type(name: str) -> str:
    return f"{TYPE_PREFIX}{name}"


def child_options(parent: pulumi.ComponentResource, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    # Children do not inherit their component's depends_on: without passing it
    # on, "the backup pool waits for the real pool" would order only the
    # component shells, not the services inside them.
    return pulumi.ResourceOptions(parent=parent, depends_on=opts.depends_on if opts else None)
