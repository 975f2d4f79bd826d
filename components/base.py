"""What every component of this program shares: its type prefix, its children's options, its rollout gates."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_docker as docker

from swarm_zero_downtime.nginx.render import content_hash
from swarm_zero_downtime.settings.secrets import AppSecret
from swarm_zero_downtime.settings.tls import Certificate
from swarm_zero_downtime.swarm.naming import SPEC_LABEL
from swarm_zero_downtime.swarm.rollout_gate import RolloutGate
from swarm_zero_downtime.swarm.values import Duration

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


def spec_fingerprint(args: Any) -> str:
    """A fingerprint of a component's whole declared ``*Args``: any change of them is a new spec.

    Values known only at deploy (the network's id) are left out: they follow
    from the rest. A certificate counts by its public fingerprint, never its key.
    """
    return content_hash(json.dumps(_plain(args), sort_keys=True))


def _plain(value: Any) -> Any:
    if isinstance(value, pulumi.Output):
        return "<known at deploy>"
    if isinstance(value, Certificate):
        return {"certificate": value.sha256}
    if isinstance(value, AppSecret):
        # A label is plain text in the service: a secret counts by its Swarm id, never its value.
        raise TypeError("spec_fingerprint: a secret's value has no place in a spec label")
    if isinstance(value, Duration):
        return value.text
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {type(value).__name__: {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"spec_fingerprint: no plain form for a {type(value).__name__}")


def spec_label(args: Any) -> docker.ServiceLabelArgs:
    """The service label carrying ``spec_fingerprint(args)``: Swarm puts the old one back when it rolls back."""
    return docker.ServiceLabelArgs(label=SPEC_LABEL, value=spec_fingerprint(args))


def rollout_gate(
    name: str,
    service: docker.Service,
    args: Any,
    image: str,
    replicas: int | None,
    timeout: Duration,
    opts: pulumi.ResourceOptions,
    secret_ids: Sequence[pulumi.Input[str]] = (),
) -> RolloutGate:
    """The gate after ``service``, which carries ``spec_label(args)``: done once Swarm runs that spec, whole,
    with the Swarm secrets ``secret_ids``."""
    return RolloutGate(
        f"{name}-rollout",
        service_id=service.id,
        image=image,
        replicas=replicas,
        timeout_s=timeout.seconds,
        spec_sha256=spec_fingerprint(args),
        secret_ids=secret_ids,
        opts=opts,
    )
