"""The private pulumi SDK APIs behind offline_runner/pulumi_internals.py are still there and shaped as used.

They can change in any pulumi release without notice; these tests say which one
changed instead of letting the mock runtime fail somewhere deep in a test run.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import re
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from offline_runner import pulumi_internals
from offline_runner.stack_config import REPO_ROOT, project_name

# The runtime's settings are global: running under this project's own name leaves
# nothing behind that would surprise a later test reading pulumi.Config().
PROJECT = project_name()

RECHECK = (
    "re-check every private API listed in offline_runner/pulumi_internals.py against the installed SDK,"
    " then update WRITTEN_FOR_PULUMI there (and the version in its comment)"
)


def _pinned_pulumi() -> str:
    pins = re.findall(r"^pulumi==(\S+)", (REPO_ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert len(pins) == 1, f"requirements.txt should pin pulumi exactly once, found {pins}"
    return pins[0]


def test_installed_pulumi_is_the_version_the_internals_were_written_for():
    installed = importlib.metadata.version("pulumi")
    assert installed == pulumi_internals.WRITTEN_FOR_PULUMI, (
        f"pulumi {installed} is installed, but offline_runner/pulumi_internals.py was written for"
        f" pulumi {pulumi_internals.WRITTEN_FOR_PULUMI}: {RECHECK}"
    )


def test_requirements_pin_the_version_the_internals_were_written_for():
    pinned = _pinned_pulumi()
    assert pinned == pulumi_internals.WRITTEN_FOR_PULUMI, (
        f"requirements.txt pins pulumi=={pinned}, but offline_runner/pulumi_internals.py was written for"
        f" pulumi {pulumi_internals.WRITTEN_FOR_PULUMI}: {RECHECK}"
    )


def test_the_comment_names_the_version_written_for():
    named = f"pulumi=={pulumi_internals.WRITTEN_FOR_PULUMI}" in inspect.getsource(pulumi_internals)
    assert named, (
        f"the comment in offline_runner/pulumi_internals.py does not name pulumi=={pulumi_internals.WRITTEN_FOR_PULUMI}"
    )


class _Anything:
    """A stand-in argument: only whether the call binds is checked."""


ARG = _Anything()

# (module, name, how pulumi_internals calls it (None: not called), what it must be)
Binding = Callable[[inspect.Signature], inspect.BoundArguments]
INTERNALS: list[tuple[str, str, Binding | None, str]] = [
    ("pulumi.runtime.mocks", "MockMonitor", lambda s: s.bind(ARG), "class"),
    ("pulumi.runtime.rpc", "deserialize_properties", lambda s: s.bind(ARG), "function"),
    ("pulumi.runtime.settings", "reset_options", lambda s: s.bind(project=ARG, stack=ARG), "function"),
    ("pulumi.runtime.stack", "run_pulumi_func", lambda s: s.bind(ARG), "coroutine function"),
    ("pulumi.runtime.stack", "Stack", None, "class"),  # only its instances' `outputs` are read
    ("pulumi.runtime.sync_await", "_sync_await", lambda s: s.bind(ARG), "function"),
    # Public, but the `monitor` parameter is what lets a recording monitor in.
    (
        "pulumi.runtime",
        "set_mocks",
        lambda s: s.bind(ARG, project=ARG, stack=ARG, preview=ARG, monitor=ARG),
        "function",
    ),
]


def _lookup(module: str, name: str) -> Any:
    try:
        imported = importlib.import_module(module)
    except ImportError as error:
        pytest.fail(f"module {module} is gone from the installed pulumi ({error}): {RECHECK}", pytrace=False)
    if not hasattr(imported, name):
        pytest.fail(f"{module}.{name} is gone from the installed pulumi: {RECHECK}", pytrace=False)
    return getattr(imported, name)


@pytest.mark.parametrize(
    "module, name, call, kind", INTERNALS, ids=[f"{module}.{name}" for module, name, _, _ in INTERNALS]
)
def test_internal_exists_and_takes_the_arguments_used(module: str, name: str, call: Binding | None, kind: str):
    found = _lookup(module, name)
    kinds: dict[str, Callable[[object], bool]] = {
        "class": inspect.isclass,
        "function": inspect.isfunction,
        "coroutine function": inspect.iscoroutinefunction,
    }
    assert kinds[kind](found), f"{module}.{name} is no longer a {kind} (it is {found!r}): {RECHECK}"
    if call is None:
        return
    signature = inspect.signature(found)
    try:
        call(signature)
    except TypeError as error:
        pytest.fail(
            f"{module}.{name}{signature} no longer takes the arguments pulumi_internals passes ({error}): {RECHECK}",
            pytrace=False,
        )


def test_mock_monitor_still_has_the_register_resource_hook_overridden():
    monitor = _lookup("pulumi.runtime.mocks", "MockMonitor")
    hook = getattr(monitor, "RegisterResource", None)
    assert callable(hook), f"pulumi.runtime.mocks.MockMonitor.RegisterResource is gone: {RECHECK}"
    try:
        inspect.signature(hook).bind(ARG, ARG)  # (self, request)
    except TypeError as error:
        pytest.fail(
            f"MockMonitor.RegisterResource{inspect.signature(hook)} changed ({error}): {RECHECK}", pytrace=False
        )


def _tiny_program() -> None:
    class Box(pulumi.ComponentResource):
        def __init__(self, name: str):
            super().__init__("test:index:Box", name)
            self.first = pulumi.CustomResource(
                "test:index:Thing", f"{name}-first", {"size": 3, "tags": ["a"]}, pulumi.ResourceOptions(parent=self)
            )
            self.second = pulumi.CustomResource(
                "test:index:Thing",
                f"{name}-second",
                {"of": self.first.id},
                pulumi.ResourceOptions(parent=self, depends_on=[self.first]),
            )
            self.register_outputs({})

    box = Box("box")
    pulumi.export("second", box.second.id)
    pulumi.export("plain", {"n": 1})


class _EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"id-{args.name}", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def test_a_program_runs_under_mocks_and_every_registration_is_recorded():
    """End to end through every internal: a change of behaviour, not only of signature, shows here."""
    registered, outputs = pulumi_internals.run_with_mocks(
        _tiny_program, _EchoMocks(), project=PROJECT, stack="st", config={f"{PROJECT}:key": "value"}
    )
    # Registrations are RPCs on the event loop; their order is not guaranteed.
    by_name = {r.name: r for r in registered}
    assert sorted(by_name) == ["box", "box-first", "box-second"], registered
    box, first, second = by_name["box"], by_name["box-first"], by_name["box-second"]
    stack_urn = f"urn:pulumi:st::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-st"  # the root stack itself is not recorded
    assert (box.type, box.name, box.custom, box.parent) == ("test:index:Box", "box", False, stack_urn)
    # The applier keys its state on these URNs: a new format would recreate every resource.
    assert box.urn == f"urn:pulumi:st::{PROJECT}::pulumi:pulumi:Stack$test:index:Box::box"
    assert first.urn == f"urn:pulumi:st::{PROJECT}::test:index:Box$test:index:Thing::box-first"
    assert (first.custom, first.parent, first.inputs) == (True, box.urn, {"size": 3, "tags": ["a"]})
    assert (second.inputs, second.dependencies) == ({"of": "id-box-first"}, (first.urn,))
    assert outputs == {"second": "id-box-second", "plain": {"n": 1}}
    assert pulumi.Config(PROJECT).get("key") == "value"


def test_a_second_run_starts_from_a_fresh_root_stack():
    pulumi_internals.run_with_mocks(_tiny_program, _EchoMocks(), project=PROJECT, stack="one", config={})
    registered, outputs = pulumi_internals.run_with_mocks(
        lambda: pulumi.export("only", 1), _EchoMocks(), project=PROJECT, stack="two", config={}
    )
    assert registered == []
    assert outputs == {"only": 1}


def test_a_failing_program_raises_its_own_exception():
    def broken() -> None:
        raise ValueError("the program's own error")

    with pytest.raises(ValueError, match="the program's own error"):
        pulumi_internals.run_with_mocks(broken, _EchoMocks(), project=PROJECT, stack="st", config={})
