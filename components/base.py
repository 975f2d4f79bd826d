"""What every component of this program shares: its type prefix and its children's options."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

# Pulumi type tokens of the components: <package>:<module>:<Type>.
TYPE_PREFIX = "swarm-zero-downtime:index:"


def component_type(name: str) -> str:
    return f"{TYPE_PREFIX}{name}"


def child_options(
    parent: pulumi.ComponentResource,
    opts: pulumi.ResourceOptions | None,
    after: Sequence[pulumi.Resource] = (),
) -> pulumi.ResourceOptions:
    """Options for a child: parented to its component, after what the component waits for and ``after``."""
    # Children do not inherit their component's depends_on: without passing it
    # on, "the backup pool waits for the real pool" would order only the
    # component shells, not the services inside them.
    inherited = opts.depends_on if opts else None
    depends_on: list[pulumi.Input[pulumi.Resource]] = []
    if isinstance(inherited, pulumi.Resource):
        depends_on.append(inherited)
    elif isinstance(inherited, Sequence):
        depends_on.extend(inherited)
    elif inherited is not None:
        raise TypeError(f"{parent}: depends_on must be a resource or a list of resources, not {inherited!r}")
    return pulumi.ResourceOptions(parent=parent, depends_on=[*depends_on, *after] or None)
