"""Options for a component's children."""

from __future__ import annotations

from typing import Optional

import pulumi


def child_options(parent: pulumi.ComponentResource, opts: Optional[pulumi.ResourceOptions]) -> pulumi.ResourceOptions:
    # Children do not inherit their component's depends_on: without passing it
    # on, "the backup pool waits for the real pool" would order only the
    # component shells, not the services inside them.
    return pulumi.ResourceOptions(parent=parent, depends_on=opts.depends_on if opts else None)
