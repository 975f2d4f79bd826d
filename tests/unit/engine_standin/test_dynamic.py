"""Pulumi dynamic resources through the SDK's own dynamic provider host, launched as the engine launches it.

No Docker: the providers are the tiny ones in dynamic_fixture.py, pickled by
reference to that module, which the host imports from the project root.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from engine_standin.swarm_applier import ApplyError, DynamicProviderError, ReplacementNotSupported, SwarmApplier
from engine_standin.swarm_applier.dynamic import DynamicHost, exception_text, host_launch, is_dynamic
from engine_standin.swarm_applier.state import is_sealed
from engine_standin.swarm_applier.translate import SECRET_SIG, SIG_KEY
from offline_runner.mock_program import DeclaredProgram, DeclaredResource
from offline_runner.stack_config import REPO_ROOT
from tests.unit.engine_standin.dynamic_fixture import SeesSecrets, WithDiff, WithoutDiff
from tests.unit.engine_standin.fake_docker import FakeClock, FakeDocker

TYPE = "pulumi-python:dynamic:Resource"


def resource(provider: Any, name: str = "thing", **props: Any) -> DeclaredResource:
    inputs = {"__provider": serialize_provider(provider), **props}
    return DeclaredResource(f"urn:pulumi:t::p::{TYPE}::{name}", TYPE, name, True, "", (), inputs)


def program(*resources: DeclaredResource) -> DeclaredProgram:
    return DeclaredProgram(list(resources))


@pytest.fixture
def applier(tmp_path: Path) -> SwarmApplier:
    return SwarmApplier(FakeDocker(), "t", log=lambda _: None, state_dir=tmp_path, clock=FakeClock())  # type: ignore[arg-type]


def test_the_types_the_sdk_gives_dynamic_resources():
    assert is_dynamic("pulumi-python:dynamic:Resource")
    assert is_dynamic("pulumi-python:dynamic/swarm:RolloutGate")
    assert not is_dynamic("docker:index/service:Service")


def test_the_host_is_launched_as_the_engine_launches_it():
    launch = host_launch(REPO_ROOT, environ={"PATH": "/usr/bin", "PYTHONHOME": "/x"})
    assert launch.cwd == REPO_ROOT  # ExecPlugin: cmd.Dir = the project root
    assert launch.argv[:4] == [str(REPO_ROOT / "venv" / "bin" / "python"), "-u", "-m", "pulumi.dynamic"]
    assert launch.env["PULUMI_RUNTIME_VIRTUALENV"] == "venv" and launch.env["PULUMI_RUNTIME_TOOLCHAIN"] == "pip"
    assert launch.env["PULUMI_PROJECT"] == "swarm-zero-downtime"
    assert launch.env["PATH"].startswith(f"{REPO_ROOT / 'venv'}/bin:")
    assert "PYTHONHOME" not in launch.env


def test_the_real_host_unpickles_by_reference_and_returns_outs():
    with DynamicHost(REPO_ROOT) as host:
        props = {"__provider": serialize_provider(WithDiff()), "value": "a"}
        id_, outs = host.create("urn:pulumi:t::p::x::y", props)
        assert id_ == "thing-a"
        assert outs == {**props, "created_from": "a"}  # CreateResult.outs plus __provider


def test_create_then_no_change_then_update(applier):
    first = applier.apply(program(resource(WithDiff(), value="a")), refresh=False)
    assert first.changed() == {"thing": ("create", ())}
    record = applier.state().find(TYPE, "thing")
    assert record is not None and record.id == "thing-a" and record.outputs["created_from"] == "a"
    # diff(olds=the OUTPUTS, news): "created_from" is only in the outputs, so this provider sees a change...
    assert applier.apply(program(resource(WithDiff(), value="a")), refresh=False).changed() == {"thing": ("update", ())}
    # ... and after the update its outputs are the new inputs plus "updated_to" -- still a change, every time.
    record = applier.state().find(TYPE, "thing")
    assert record is not None and record.outputs["updated_to"] == "a"


def test_without_diff_any_input_change_is_an_update(applier):
    applier.apply(program(resource(WithoutDiff(), value="a")), refresh=False)
    assert applier.apply(program(resource(WithoutDiff(), value="a")), refresh=False).changed() == {}
    report = applier.apply(program(resource(WithoutDiff(), value="b")), refresh=False)
    assert report.changed() == {"thing": ("update", ("value",))}
    record = applier.state().find(TYPE, "thing")
    assert record is not None and record.outputs["extra"] == "recomputed"


def test_a_failed_update_keeps_the_old_state(applier):
    applier.apply(program(resource(WithoutDiff(), value="a")), refresh=False)
    before = applier.state().find(TYPE, "thing")
    bad = resource(WithDiff(), value="b", fail="update")
    with pytest.raises(DynamicProviderError, match="update failed on purpose"):
        applier.apply(program(bad), refresh=False)
    after = applier.state().find(TYPE, "thing")
    assert after == before  # no partial state from the Python host: old inputs, old outputs
    with pytest.raises(DynamicProviderError):
        applier.apply(program(bad), refresh=False)  # so the same config fails again


def test_a_failed_create_records_nothing(applier):
    with pytest.raises(ApplyError, match="create failed on purpose"):
        applier.apply(program(resource(WithDiff(), value="a", fail="create")), refresh=False)
    assert applier.state().resources == {}


def test_replacements_are_refused(applier):
    applier.apply(program(resource(WithDiff(), value="a", replace_on=["value"])), refresh=False)
    with pytest.raises(ReplacementNotSupported, match="value"):
        applier.apply(program(resource(WithDiff(), value="b", replace_on=["value"])), refresh=False)


def test_refresh_reads_through_the_provider_and_drops_what_is_gone(applier):
    applier.apply(program(resource(WithoutDiff(), value="a")), refresh=False)
    assert applier.apply(program(resource(WithoutDiff(), value="a")), refresh=True).changed() == {}
    applier.apply(program(resource(WithDiff(), value="a", gone=True)), refresh=False)
    report = applier.apply(program(resource(WithDiff(), value="a", gone=True)), refresh=True)
    assert [(c.name, c.action) for c in report.refreshed] == [("thing", "gone")]
    assert report.changed() == {"thing": ("create", ())}


def test_delete_goes_through_the_provider(applier):
    applier.apply(program(resource(WithoutDiff(), value="a")), refresh=False)
    assert applier.destroy(refresh=False).changed() == {"thing": ("delete", ())}
    assert applier.state().resources == {}


def secret(value: str) -> dict[str, str]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def test_a_secret_input_reaches_the_provider_as_plain_text_and_the_state_only_sealed(applier, tmp_path):
    # The SDK's host takes no secrets (its Configure answers acceptSecrets False): the engine sends it plain values.
    applier.apply(program(resource(SeesSecrets(), value="a", password=secret("hunter2"))), refresh=False)
    record = applier.state().find(TYPE, "thing")
    assert record is not None and record.outputs["password_type"] == "str"
    # Returned under the input's name, it is a secret again (annotateSecrets); neither is kept in plain text.
    assert is_sealed(record.inputs["password"]) and is_sealed(record.outputs["password"])
    assert "hunter2" not in (tmp_path / "t.json").read_text()
    # The same secret is no change to the provider's diff; a changed one reaches its update as plain text.
    again = applier.apply(program(resource(SeesSecrets(), value="a", password=secret("hunter2"))), refresh=False)
    assert again.changed() == {}
    rotated = resource(SeesSecrets(), value="b", password=secret("another"))
    assert applier.apply(program(rotated), refresh=False).changed() == {"thing": ("update", ("password", "value"))}
    record = applier.state().find(TYPE, "thing")
    assert record is not None and record.outputs["password_type"] == "str"
    assert "another" not in (tmp_path / "t.json").read_text()


def test_the_error_keeps_every_line_of_the_exceptions_message_and_none_of_the_traceback():
    message = "release failed: exit code 3\n--- the end of its output ---\n  File 'migrate.py', line 3\nboom"
    try:
        raise RuntimeError(message)
    except RuntimeError:
        details = traceback.format_exc()  # what the host's _abort_with_traceback sends
    assert exception_text(details) == f"RuntimeError: {message}"
    assert exception_text("no traceback at all") == "no traceback at all"
