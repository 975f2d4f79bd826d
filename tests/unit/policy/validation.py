"""The program's services as the policy engine hands them to a policy, and what a policy reports on one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2  # type: ignore[import-untyped]
from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from offline_runner.mock_program import DeclaredResource, auto_name


def checked_inputs(resource: DeclaredResource) -> dict[str, Any]:
    """The inputs after the provider's check, which is what the engine analyzes: pulumi-docker's
    auto-naming fills in ``name`` (the form auto_name gives) unless the program set one."""
    return {"name": auto_name(resource.name), **resource.inputs}


def validation_args(resource: DeclaredResource, inputs: Mapping[str, Any] | None = None) -> ResourceValidationArgs:
    """``ResourceValidationArgs`` for ``resource`` (or for ``inputs`` in its place) built as the SDK's
    analyzer builds them from the engine's request (pulumi_policy/policy.py, Analyze): properties
    through a protobuf Struct and back, behind the proxy that refuses unknown values."""
    struct = struct_pb2.Struct()
    struct.update(dict(checked_inputs(resource) if inputs is None else inputs))
    props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(struct)))
    opts = PolicyResourceOptions(
        False,
        list(resource.ignore_changes),
        resource.delete_before_replace or None,
        [],
        PolicyCustomTimeouts(0, 0, 0),
        [],
        resource.parent or None,
    )
    return ResourceValidationArgs(resource.type, props, resource.urn, resource.name, opts, None, None, None)


def violations(policy: Policy, args: ResourceValidationArgs) -> list[str]:
    """The messages ``policy`` reports for one resource."""
    assert isinstance(policy, ResourceValidationPolicy), policy.name
    reported: list[str] = []

    def report_violation(message: str, urn: str | None = None) -> None:
        reported.append(message)

    # As the analyzer calls it: the policy's own validate, over its list of functions.
    assert policy.validate(args, report_violation) is None, f"{policy.name}: the rules are synchronous"
    return reported
