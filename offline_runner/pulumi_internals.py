"""The private parts of the pulumi SDK that running a program under mocks needs, behind one function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

# Private APIs of the `pulumi` Python SDK: not in its documented surface, so any
# release may rename or reshape them. Written for pulumi==3.272.0, the version
# pinned in requirements.txt; tests/unit/engine_standin/test_pulumi_internals.py fails,
# naming what changed, when the installed SDK differs from what this relies on.
# The public mock API (pulumi.runtime.set_mocks) cannot record what a program
# declares or run it to completion outside the engine, hence these.
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.rpc import deserialize_properties
from pulumi.runtime.settings import reset_options
from pulumi.runtime.stack import Stack, run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

WRITTEN_FOR_PULUMI = "3.272.0"


@dataclass(frozen=True)
class Registration:
    """One resource the program registered, with its inputs decoded."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: tuple[str, ...]
    inputs: dict[str, Any]
    # ResourceOptions.delete_before_replace: a replacement deletes the old resource first.
    delete_before_replace: bool = False
    # ResourceOptions.ignore_changes, as the engine receives them (property paths).
    ignore_changes: tuple[str, ...] = ()


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.registered: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    parent=request.parent,
                    dependencies=tuple(request.dependencies),
                    inputs=deserialize_properties(request.object),
                    delete_before_replace=request.deleteBeforeReplace,
                    ignore_changes=tuple(request.ignoreChanges),
                )
            )
        return response


def recording_monitor(mocks: pulumi.runtime.Mocks, *, project: str, stack: str) -> RecordingMonitor:
    """A recording monitor for a program of ``project``/``stack``: MockMonitor names URNs from the SDK's global settings."""
    reset_options(project=project, stack=stack)
    return RecordingMonitor(mocks)


def run_with_mocks(
    program: Callable[[], None],
    mocks: pulumi.runtime.Mocks,
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: Sequence[str] = (),
) -> tuple[list[Registration], dict[str, Any]]:
    """Run ``program`` to completion under ``mocks``: what it registered, and its stack outputs resolved.

    Exceptions from the program propagate.
    """
    # A previous run leaves its root stack and settings behind; without a reset
    # the next program would register under them.
    monitor = recording_monitor(mocks, project=project, stack=stack)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config, list(secret_keys))
    _sync_await(run_pulumi_func(program))
    root = pulumi.runtime.get_root_resource()
    if not isinstance(root, Stack):
        raise RuntimeError(f"no root stack resource after the program ran (found {root!r})")
    outputs = {key: _sync_await(pulumi.Output.from_input(value).future()) for key, value in root.outputs.items()}
    return monitor.registered, outputs
