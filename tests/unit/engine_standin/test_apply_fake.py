"""SwarmApplier against an in-memory Docker: state, idempotence, pinning, partial state, refresh, deletes."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from docker.errors import APIError

from engine_standin.swarm_applier import ApplyError, ReplacementNotSupported, SwarmApplier
from engine_standin.swarm_applier.dynamic import is_dynamic
from engine_standin.swarm_applier.state import is_sealed
from offline_runner.mock_program import DeclaredProgram, auto_name, mock_digest, run_program
from offline_runner.resource_types import NETWORK, SECRET, SERVICE, SERVICE_CONFIG
from offline_runner.stack_config import REPO_ROOT, load_stack_config, project_name
from tests.e2e.harness import E2E_OVERRIDES
from tests.unit.engine_standin.fake_docker import FakeClock, FakeDocker

DIGEST = "sha256:" + "e" * 64  # what the daemon's registry query (QueryRegistry on create) answers
# What an image tag change updates on a pool: its image, and its spec label (after the pool label).
IMAGE_CHANGE = ("labels[1].value", "taskSpec.containerSpec.image")


def pinned(image: str) -> str:
    """``image`` as the program declares it: pinned to the digest getRegistryImage gave (mock_digest here)."""
    return f"{image}@{mock_digest(image)}"


def docker_only(program: DeclaredProgram) -> DeclaredProgram:
    """The program's pulumi-docker resources (its dynamic resources need a real Docker in their host)."""
    return DeclaredProgram([r for r in program.resources if not is_dynamic(r.type)], program.outputs, program.config)


@pytest.fixture(scope="module")
def programs() -> dict[str, DeclaredProgram]:
    def build(tag: str) -> DeclaredProgram:
        return docker_only(run_program(load_stack_config("dev", overrides={**E2E_OVERRIDES, "imageTag": tag}), "e2e"))

    return {"v1": build("v1"), "v2": build("v2")}


@pytest.fixture
def fake() -> FakeDocker:
    return FakeDocker()


def applier(fake: FakeDocker, tmp_path: Path, project_root: Path = REPO_ROOT) -> SwarmApplier:
    return SwarmApplier(
        fake,  # type: ignore[arg-type]
        "e2e",
        log=lambda _: None,
        state_dir=tmp_path / "state",
        clock=FakeClock(),
        project_root=project_root,
    )


def names(program: DeclaredProgram, type_: str) -> list[str]:
    return [r.name for r in program.of_type(type_)]


def real(program: DeclaredProgram) -> str:
    return next(n for n in names(program, SERVICE) if n.endswith("-real"))


def backup(program: DeclaredProgram) -> str:
    return next(n for n in names(program, SERVICE) if n.endswith("-backup"))


def service_name(fake: FakeDocker, applier_: SwarmApplier, logical: str) -> str:
    found = applier_.find(SERVICE, logical)
    assert found is not None
    return str(found["Spec"]["Name"])


def test_applying_twice_changes_nothing_even_right_after_the_create(fake, tmp_path, programs):
    a = applier(fake, tmp_path)
    first = a.apply(programs["v1"], refresh=False)
    assert {c.action for c in first.changes} == {"create"}
    assert a.apply(programs["v1"], refresh=False).changed() == {}
    assert a.apply(programs["v1"], refresh=True).changed() == {}
    state = a.state()
    assert state.path == tmp_path / "state" / "e2e.json" and state.path.exists()
    record = state.find(SERVICE, real(programs["v1"]))
    assert record is not None
    assert record.outputs["taskSpec"]["containerSpec"]["image"] == pinned("szd-testapp:v1")
    assert record.outputs["taskSpec"]["containerSpec"]["stopGracePeriod"] == "10s"
    found = a.find(SERVICE, real(programs["v1"]))
    assert found is not None and found["ID"] == record.id


def test_an_image_tag_change_updates_the_pools_in_place(fake, tmp_path, programs):
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    report = a.apply(programs["v2"], refresh=False)
    assert report.changed() == {
        real(programs["v2"]): ("update", IMAGE_CHANGE),
        backup(programs["v2"]): ("update", IMAGE_CHANGE),
    }


def test_create_keeps_the_declared_digest_records_the_platforms_and_the_next_apply_has_nothing_to_do(
    fake, tmp_path, programs
):
    # The daemon's registry answers another digest than the program's: a declared digest is never replaced.
    fake.digest = DIGEST
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    created = [spec for call, spec in fake.calls if call == "create_service"]
    declared = {pinned("szd-testapp:v1"), pinned("szd-nginx:test")}
    assert {s["TaskTemplate"]["ContainerSpec"]["Image"] for s in created} == declared
    # QueryRegistry still runs on create (moby keeps a canonical reference as it is) and records the platforms.
    assert [c for c in fake.calls if c[0] == "inspect_distribution"] == [
        ("inspect_distribution", s["TaskTemplate"]["ContainerSpec"]["Image"]) for s in created
    ]
    assert all(
        s["TaskTemplate"]["Placement"]["Platforms"] == [{"Architecture": "amd64", "OS": "linux"}] for s in created
    )
    # Swarm stores the declared image, so the read-back matches the program: no update, no restart.
    assert a.apply(programs["v1"], refresh=False).changed() == {}
    assert a.apply(programs["v1"], refresh=True).changed() == {}
    assert not [c for c in fake.calls if c[0] == "update_service"]


def test_create_pins_a_plain_tag_when_the_registry_answers_and_the_next_apply_sees_it(fake, tmp_path):
    # A program that declares a plain tag (secret_program's postgres:16), as pulumi-docker handles it.
    fake.digest = DIGEST
    a = applier(fake, tmp_path)
    a.apply(secret_program(), refresh=False)
    (created,) = [spec for call, spec in fake.calls if call == "create_service"]
    assert created["TaskTemplate"]["ContainerSpec"]["Image"] == f"postgres:16@{DIGEST}"
    assert created["TaskTemplate"]["Placement"]["Platforms"] == [{"Architecture": "amd64", "OS": "linux"}]
    assert [c for c in fake.calls if c[0] == "inspect_distribution"] == [("inspect_distribution", "postgres:16")]
    # The read-back stored the pinned image: the same program now diffs on the image...
    assert a.apply(secret_program(), refresh=False).changed() == {"db": ("update", ("taskSpec.containerSpec.image",))}
    # ... and the update sends the plain tag: no pin on update.
    (updated,) = [spec for call, spec in fake.calls if call == "update_service"]
    assert updated["TaskTemplate"]["ContainerSpec"]["Image"] == "postgres:16"
    assert [c for c in fake.calls if c[0] == "inspect_distribution"] == [("inspect_distribution", "postgres:16")]
    assert a.apply(secret_program(), refresh=False).changed() == {}


def test_without_a_registry_answer_a_plain_tag_is_not_pinned(fake, tmp_path):
    logged: list[str] = []
    a = applier(fake, tmp_path)
    a.log = logged.append
    a.apply(secret_program(), refresh=False)
    (created,) = [spec for call, spec in fake.calls if call == "create_service"]
    assert created["TaskTemplate"]["ContainerSpec"]["Image"] == "postgres:16"
    assert "Platforms" not in (created["TaskTemplate"].get("Placement") or {})
    assert any("image postgres:16 could not be accessed on a registry to record" in line for line in logged)


def test_without_a_registry_answer_the_declared_digest_still_holds(fake, tmp_path, programs):
    logged: list[str] = []
    a = applier(fake, tmp_path)
    a.log = logged.append
    a.apply(programs["v1"], refresh=False)
    created = [spec for call, spec in fake.calls if call == "create_service"]
    assert {s["TaskTemplate"]["ContainerSpec"]["Image"] for s in created} == {
        pinned("szd-testapp:v1"),
        pinned("szd-nginx:test"),
    }
    assert not any("Platforms" in (s["TaskTemplate"].get("Placement") or {}) for s in created)
    assert any(
        f"image {pinned('szd-testapp:v1')} could not be accessed on a registry to record" in line for line in logged
    )
    assert a.apply(programs["v1"], refresh=False).changed() == {}


def test_a_failed_update_keeps_the_new_values_as_outputs_and_the_next_apply_goes_on(fake, tmp_path, programs):
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    real_name = real(programs["v1"])
    fake.update_outcome[service_name(fake, a, real_name)] = "rollback"
    with pytest.raises(ApplyError, match="service rollback completed: rollback completed") as failure:
        a.apply(programs["v2"], refresh=False)
    assert failure.value.report is not None
    assert failure.value.report.changed() == {real_name: ("update", IMAGE_CHANGE)}
    record = a.state().find(SERVICE, real_name)
    assert record is not None
    # The engine keeps the old inputs; the outputs are the bridge's planned state.
    assert record.inputs["taskSpec"]["containerSpec"]["image"] == pinned("szd-testapp:v1")
    assert record.outputs["taskSpec"]["containerSpec"]["image"] == pinned("szd-testapp:v2")
    assert record.init_errors and "service rollback completed" in record.init_errors[0]
    # Swarm rolled back, but the state says v2: the same program sees no change there and goes on.
    again = a.apply(programs["v2"], refresh=False)
    assert again.changed() == {backup(programs["v2"]): ("update", IMAGE_CHANGE)}


def test_a_service_that_does_not_converge_on_create_is_deleted(fake, tmp_path, programs):
    a = applier(fake, tmp_path)
    program = programs["v1"]
    fake.running = _NeverRunning()  # no task of any service ever runs
    with pytest.raises(ApplyError, match=r"did not converge after 2m0s"):
        a.apply(program, refresh=False)
    assert fake.services_by_id == {}
    assert [c[0] for c in fake.calls if c[0] in ("create_service", "remove_service")] == [
        "create_service",
        "remove_service",
    ]
    assert a.state().find(SERVICE, real(program)) is None


class _NeverRunning(dict[str, bool]):
    def get(self, key: str, default: Any = None) -> bool:
        return False


def test_refresh_is_only_done_when_asked(fake, tmp_path, programs):
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    service = a.find(SERVICE, real(programs["v1"]))
    assert service is not None
    fake.remove_service(service["ID"])  # docker service rm, by hand
    assert a.apply(programs["v1"], refresh=False).changed() == {}  # pulumi up: the state still has it
    report = a.apply(programs["v1"], refresh=True)
    assert [(c.name, c.action) for c in report.refreshed] == [(real(programs["v1"]), "gone")]
    assert report.changed() == {real(programs["v1"]): ("create", ())}


def test_refresh_takes_what_docker_has(fake, tmp_path, programs):
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    service = a.find(SERVICE, backup(programs["v1"]))
    assert service is not None
    fake._service(service["ID"])["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] = "szd-testapp:v0"  # edited by hand
    report = a.apply(programs["v1"], refresh=True)
    assert [(c.name, c.action, c.paths) for c in report.refreshed] == [
        (backup(programs["v1"]), "drifted", ("taskSpec.containerSpec.image",))
    ]
    assert report.changed() == {backup(programs["v1"]): ("update", ("taskSpec.containerSpec.image",))}


def test_refresh_reads_side_by_side_and_keeps_what_it_read_when_another_read_fails(
    fake, tmp_path, programs, monkeypatch
):
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    services = names(programs["v1"], SERVICE)
    # Every service read waits for all the others: one at a time, the first would time out.
    meet = threading.Barrier(len(services), timeout=10)
    inspect = fake.inspect_service

    def inspect_together(id_or_name: str) -> dict[str, Any]:
        meet.wait()
        return inspect(id_or_name)

    edited = a.find(SERVICE, backup(programs["v1"]))
    assert edited is not None
    fake._service(edited["ID"])["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] = "szd-testapp:v0"
    monkeypatch.setattr(fake, "inspect_service", inspect_together)

    def dropped(id_: str) -> dict[str, Any]:
        raise requests.ConnectionError("Connection aborted")

    monkeypatch.setattr(fake, "inspect_network", dropped)
    with pytest.raises(ApplyError, match="Connection aborted"):
        a.refresh()
    # The services were read all the same: the drift is in the state.
    kept = a.state().find(SERVICE, backup(programs["v1"]))
    assert kept is not None and kept.outputs["taskSpec"]["containerSpec"]["image"] == "szd-testapp:v0"


def test_pulumi_yaml_refresh_always_makes_apply_refresh(fake, tmp_path, programs):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: p\nruntime: python\noptions:\n  refresh: always\n")
    a = applier(fake, tmp_path, project_root=project)
    a.apply(programs["v1"])
    service = a.find(SERVICE, real(programs["v1"]))
    assert service is not None
    fake.remove_service(service["ID"])
    assert a.apply(programs["v1"]).changed() == {real(programs["v1"]): ("create", ())}
    (project / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    again = a.find(SERVICE, real(programs["v1"]))
    assert again is not None
    fake.remove_service(again["ID"])
    assert a.apply(programs["v1"]).changed() == {}


def test_replacements_are_refused_with_the_path(fake, tmp_path, programs):
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    changed = copy.deepcopy(programs["v1"])
    resource = changed.get(SERVICE, real(changed))
    inputs = copy.deepcopy(resource.inputs)
    inputs["taskSpec"]["networksAdvanceds"][0]["aliases"].append("extra")
    changed.resources[changed.resources.index(resource)] = dataclasses.replace(resource, inputs=inputs)
    with pytest.raises(ReplacementNotSupported, match=r"taskSpec\.networksAdvanceds\[0\]\.aliases"):
        a.apply(changed, refresh=False)


def with_sysctl(program: DeclaredProgram, logical: str, value: str) -> DeclaredProgram:
    """``program`` with one sysctl of service ``logical`` changed: a ForceNew field, as a new release might."""
    changed = copy.deepcopy(program)
    resource = changed.get(SERVICE, logical)
    inputs = copy.deepcopy(resource.inputs)
    inputs["taskSpec"]["containerSpec"].setdefault("sysctl", {})["net.ipv4.tcp_retries2"] = value
    changed.resources[changed.resources.index(resource)] = dataclasses.replace(resource, inputs=inputs)
    return changed


def test_a_replacement_with_delete_before_replace_deletes_the_old_service_then_creates_the_new(
    fake, tmp_path, programs
):
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    edge = next(n for n in names(programs["v1"], SERVICE) if n.endswith("-edge"))
    old = a.find(SERVICE, edge)
    assert old is not None and programs["v1"].get(SERVICE, edge).delete_before_replace
    fake.calls.clear()

    report = a.apply(with_sysctl(programs["v1"], edge, "9"), refresh=False)

    assert report.changed() == {edge: ("replace", ("taskSpec.containerSpec.sysctl",))}
    calls = [call for call, _ in fake.calls]
    assert calls.index("remove_service") < calls.index("create_service")
    new = a.find(SERVICE, edge)
    assert new is not None and new["ID"] != old["ID"] and old["ID"] not in fake.services_by_id
    assert new["Spec"]["TaskTemplate"]["ContainerSpec"]["Sysctls"]["net.ipv4.tcp_retries2"] == "9"
    assert a.apply(with_sysctl(programs["v1"], edge, "9"), refresh=False).changed() == {}


def test_a_replacement_without_delete_before_replace_is_refused_before_anything_is_touched(fake, tmp_path, programs):
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    pool = real(programs["v1"])
    fake.calls.clear()
    with pytest.raises(ReplacementNotSupported, match=r"creating the new one first"):
        a.apply(with_sysctl(programs["v1"], pool, "9"), refresh=False)
    assert not [call for call, _ in fake.calls if call in ("remove_service", "create_service")]


def test_a_failed_network_read_drops_it_on_a_full_refresh_and_never_on_the_deploys(
    fake, tmp_path, programs, monkeypatch
):
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    networks = names(programs["v1"], NETWORK)

    def flaky(_id: str) -> dict[str, Any]:
        raise APIError("500 Server Error: injected")

    monkeypatch.setattr(fake, "inspect_network", flaky)
    deployed = a.deploy(programs["v1"])
    assert deployed.changed() == {} and deployed.refreshed == []
    assert all(a.state().find(NETWORK, n) is not None for n in networks)

    # `pulumi refresh` of everything (or `up --refresh`): pulumi-docker reads the failure as "gone".
    report = a.refresh()
    assert sorted((c.name, c.action) for c in report.refreshed) == sorted((n, "gone") for n in networks)
    assert all(a.state().find(NETWORK, n) is None for n in networks)


def test_destroy_deletes_dependents_first_and_empties_the_state(fake, tmp_path, programs):
    a = applier(fake, tmp_path)
    a.apply(programs["v1"], refresh=False)
    report = a.destroy(refresh=False)
    deleted = [c.type for c in report.changes]
    assert deleted.index(SERVICE) < deleted.index(SERVICE_CONFIG) and deleted[-1] == NETWORK
    assert a.state().resources == {}
    assert fake.services_by_id == {} and fake.networks_by_id == {} and fake.configs_by_id == {}
    # deleteService waited for the containers of services with a stop_grace_period.
    assert any(call == "wait" for call, _ in fake.calls)


# --- docker_secret, and a service that reads it -------------------------------------------

SECRET_PROGRAM = Path(__file__).with_name("secret_program.py")
PASSWORD = "s3cret-Pa55"


def secret_program(password: str = PASSWORD, **config: str) -> DeclaredProgram:
    values = {"password": password, **config}
    return run_program({f"{project_name()}:{k}": v for k, v in values.items()}, "e2e", program=SECRET_PROGRAM)


def plain_texts(password: str) -> tuple[str, str]:
    return password, base64.b64encode(password.encode()).decode()


def test_a_secret_is_created_before_the_service_that_reads_it_and_stays_out_of_the_state(fake, tmp_path):
    logged: list[str] = []
    a = applier(fake, tmp_path)
    a.log = logged.append
    report = a.apply(secret_program(), refresh=False)
    assert [(c.type, c.name, c.action) for c in report.changes] == [
        (SECRET, "db-password-1", "create"),
        (SERVICE, "db", "create"),
    ]
    (secret_id,) = fake.secrets_by_id
    assert fake.secret_data[secret_id] == PASSWORD.encode()  # the provider sends the decoded data
    assert fake.secrets_by_id[secret_id]["Spec"] == {"Name": auto_name("db-password-1"), "Labels": {"app": "db"}}
    (created,) = [spec for call, spec in fake.calls if call == "create_service"]
    container = created["TaskTemplate"]["ContainerSpec"]
    assert container["StopSignal"] == "SIGINT"
    assert container["Secrets"] == [
        {
            "SecretID": secret_id,  # the physical id, not the mock's
            "SecretName": auto_name("db-password-1"),
            "File": {"Name": "/run/secrets/db-password", "UID": "0", "GID": "0", "Mode": 0o444},
        }
    ]
    # Neither the password nor its base64 is in the state file, the log or the report.
    state_text = a.state().path.read_text(encoding="utf-8")
    for text in plain_texts(PASSWORD):
        assert text not in state_text
        assert not any(text in line for line in logged)
        assert text not in str(report)
    record = a.state().find(SECRET, "db-password-1")
    assert record is not None and record.id == secret_id
    assert is_sealed(record.outputs["data"]) and is_sealed(record.inputs["data"])
    assert record.outputs["name"] == auto_name("db-password-1")
    service = a.state().find(SERVICE, "db")
    assert service is not None
    assert service.outputs["taskSpec"]["containerSpec"]["stopSignal"] == "SIGINT"
    assert service.outputs["taskSpec"]["containerSpec"]["secrets"] == [
        {
            "secretId": secret_id,
            "secretName": auto_name("db-password-1"),
            "fileName": "/run/secrets/db-password",
            "fileUid": "0",
            "fileGid": "0",
            "fileMode": 0o444,
        }
    ]
    # The sealed data still tells the same program apart from a changed one.
    assert a.apply(secret_program(), refresh=False).changed() == {}
    assert a.apply(secret_program(), refresh=True).changed() == {}


def test_new_secret_data_creates_the_new_secret_first_updates_the_service_then_deletes_the_old(fake, tmp_path):
    logged: list[str] = []
    a = applier(fake, tmp_path)
    a.log = logged.append
    a.apply(secret_program(), refresh=False)
    (old_id,) = fake.secrets_by_id
    fake.calls.clear()

    report = a.apply(secret_program("n3w-Pa55"), refresh=False)

    # The engine's create-before-delete: CreateReplacement, the dependent's update, DeleteReplaced at the end.
    assert [(c.name, c.action) for c in report.changes] == [
        ("db-password-1", "replace"),
        ("db", "update"),
        ("db-password-1", "delete-replaced"),
    ]
    assert report.get("db-password-1").paths == ("data",)
    assert [call for call, _ in fake.calls if call != "inspect_service"][:3] == [
        "create_secret",
        "update_service",
        "remove_secret",
    ]
    (new_id,) = fake.secrets_by_id
    new_name = fake.secrets_by_id[new_id]["Spec"]["Name"]
    # Checked again without the old inputs: a new auto-name beside the old one, on the same logical name.
    assert new_id != old_id and new_name != auto_name("db-password-1")
    assert new_name.startswith("db-password-1-") and fake.secret_data[new_id] == b"n3w-Pa55"
    (updated,) = [spec for call, spec in fake.calls if call == "update_service"]
    assert updated["TaskTemplate"]["ContainerSpec"]["Secrets"][0]["SecretID"] == new_id
    assert updated["TaskTemplate"]["ContainerSpec"]["Secrets"][0]["SecretName"] == new_name
    state = a.state()
    record = state.find(SECRET, "db-password-1")
    assert record is not None and record.id == new_id and state.pending_deletes == []
    for text in (*plain_texts("n3w-Pa55"), *plain_texts(PASSWORD)):
        assert text not in state.path.read_text(encoding="utf-8") and text not in str(report)
        assert not any(text in line for line in logged)
    # The new name sticks: the next apply has nothing to do, refreshed or not.
    assert a.apply(secret_program("n3w-Pa55"), refresh=False).changed() == {}
    assert a.apply(secret_program("n3w-Pa55"), refresh=True).changed() == {}


def applied_and_mounted_by_hand(fake: FakeDocker, tmp_path: Path) -> tuple[SwarmApplier, str]:
    """The secret program applied, and its secret mounted by a service outside the stack; its id."""
    a = applier(fake, tmp_path)
    a.apply(secret_program(), refresh=False)
    (secret_id,) = fake.secrets_by_id
    mount_by_hand(fake, secret_id)
    return a, secret_id


def mount_by_hand(fake: FakeDocker, secret_id: str) -> None:
    """A service outside the stack that mounts ``secret_id`` (docker service create --secret ..., by hand)."""
    fake.create_service(
        {
            "Name": "by-hand",
            "TaskTemplate": {
                "ContainerSpec": {"Image": "alpine", "Secrets": [{"SecretID": secret_id, "File": {"Name": "x"}}]}
            },
        }
    )


def test_a_replaced_secret_still_in_use_stays_pending_until_a_later_apply_deletes_it(fake, tmp_path):
    a, old_id = applied_and_mounted_by_hand(fake, tmp_path)
    with pytest.raises(ApplyError, match=r"is in use by the following service: by-hand") as failed:
        a.apply(secret_program("n3w-Pa55"), refresh=False)
    assert failed.value.report is not None
    assert failed.value.report.changes[-1].action == "delete-replaced"
    # The engine keeps it in the snapshot marked Delete; the new secret is the resource now.
    (pending,) = a.state().pending_deletes
    record = a.state().find(SECRET, "db-password-1")
    assert pending.id == old_id and record is not None and record.id != old_id
    assert is_sealed(pending.inputs["data"]) and is_sealed(pending.outputs["data"])
    state_text = a.state().path.read_text(encoding="utf-8")
    assert not [text for text in (*plain_texts("n3w-Pa55"), *plain_texts(PASSWORD)) if text in state_text]
    fake.remove_service("by-hand")
    report = a.apply(secret_program("n3w-Pa55"), refresh=False)
    assert report.changed() == {"db-password-1": ("delete-replaced", ())}
    assert old_id not in fake.secrets_by_id and a.state().pending_deletes == []


def test_a_pending_delete_gone_from_docker_is_dropped_by_the_refresh(fake, tmp_path):
    a = applier(fake, tmp_path)
    a.apply(secret_program(), refresh=False)
    (old_id,) = fake.secrets_by_id
    mount_by_hand(fake, old_id)
    with pytest.raises(ApplyError):
        a.apply(secret_program("n3w-Pa55"), refresh=False)
    fake.remove_service("by-hand")
    fake.remove_secret(old_id)
    report = a.apply(secret_program("n3w-Pa55"), refresh=True)
    assert [(c.name, c.action) for c in report.refreshed] == [("db-password-1", "gone")]
    assert report.changed() == {} and a.state().pending_deletes == []
    assert a.state().find(SECRET, "db-password-1") is not None


def test_rotating_to_a_new_secret_updates_the_service_in_place_then_deletes_the_old_one(fake, tmp_path):
    a = applier(fake, tmp_path)
    a.apply(secret_program(), refresh=False)
    (old_id,) = fake.secrets_by_id
    report = a.apply(secret_program("n3w-Pa55", generation="2"), refresh=False)
    assert report.changed() == {
        "db-password-2": ("create", ()),
        "db": (
            "update",
            ("taskSpec.containerSpec.secrets[0].secretId", "taskSpec.containerSpec.secrets[0].secretName"),
        ),
        "db-password-1": ("delete", ()),
    }
    (new_id,) = fake.secrets_by_id
    assert new_id != old_id and fake.secret_data[new_id] == b"n3w-Pa55"
    (updated,) = [spec for call, spec in fake.calls if call == "update_service"]
    assert [ref["SecretID"] for ref in updated["TaskTemplate"]["ContainerSpec"]["Secrets"]] == [new_id]
    assert a.state().find(SECRET, "db-password-1") is None


def app_secrets_program(value: str) -> DeclaredProgram:
    """The e2e stack's pulumi-docker resources with appSecrets.DB_PASSWORD set with --secret."""
    secret = {"appSecrets": json.dumps({"DB_PASSWORD": value})}
    config = load_stack_config("dev", overrides={**E2E_OVERRIDES, **secret})
    return docker_only(run_program(config, "e2e", secret_keys=[f"{project_name()}:appSecrets"]))


def test_a_new_app_secret_value_replaces_the_swarm_secret_and_rolls_both_pools_onto_it(fake, tmp_path):
    a = applier(fake, tmp_path)
    first = app_secrets_program(PASSWORD)
    a.apply(first, refresh=False)
    secret = f"{E2E_OVERRIDES['appName']}-secret-DB_PASSWORD"
    old = a.find(SECRET, secret)
    assert old is not None
    fake.calls.clear()

    report = a.apply(app_secrets_program("n3w-Pa55"), refresh=False)

    refs = ("taskSpec.containerSpec.secrets[0].secretId", "taskSpec.containerSpec.secrets[0].secretName")
    assert [(c.name, c.action, c.paths) for c in report.changes if c.action != "unchanged"] == [
        (secret, "replace", ("data",)),
        (real(first), "update", refs),
        (backup(first), "update", refs),
        (secret, "delete-replaced", ()),
    ]
    new = a.find(SECRET, secret)
    assert new is not None and new["ID"] != old["ID"] and old["ID"] not in fake.secrets_by_id
    # The mock's auto-name in the pools' inputs is the physical one the replacement drew.
    assert new["Spec"]["Name"] != old["Spec"]["Name"]
    for pool in (real(first), backup(first)):
        (ref,) = sent(fake, "update_service")[service_name(fake, a, pool)]["TaskTemplate"]["ContainerSpec"]["Secrets"]
        assert (ref["SecretID"], ref["SecretName"], ref["File"]["Name"]) == (
            new["ID"],
            new["Spec"]["Name"],
            "DB_PASSWORD",
        )
    assert a.apply(app_secrets_program("n3w-Pa55"), refresh=True).changed() == {}


def test_a_stop_signal_change_updates_the_service_in_place(fake, tmp_path):
    a = applier(fake, tmp_path)
    a.apply(secret_program(), refresh=False)
    report = a.apply(secret_program(stopSignal="SIGQUIT"), refresh=False)
    assert report.changed() == {"db": ("update", ("taskSpec.containerSpec.stopSignal",))}
    (updated,) = [spec for call, spec in fake.calls if call == "update_service"]
    assert updated["TaskTemplate"]["ContainerSpec"]["StopSignal"] == "SIGQUIT"


def test_a_secret_a_service_still_uses_stays_and_fails_the_apply(fake, tmp_path):
    a, secret_id = applied_and_mounted_by_hand(fake, tmp_path)
    with pytest.raises(ApplyError, match=r"secret '.*' is in use by the following service: by-hand") as failed:
        a.destroy(refresh=False)
    assert failed.value.report is not None
    assert [(c.name, c.action, c.error is not None) for c in failed.value.report.changes] == [
        ("db", "delete", False),
        ("db-password-1", "delete", True),
    ]
    # The provider returns Docker's refusal as is: no retry, the secret stays in Docker and in the state.
    assert secret_id in fake.secrets_by_id
    record = a.state().find(SECRET, "db-password-1")
    assert record is not None and record.id == secret_id
    assert a.state().find(SERVICE, "db") is None
    # Once nothing uses it, the next destroy deletes it.
    fake.remove_service("by-hand")
    assert a.destroy(refresh=False).changed() == {"db-password-1": ("delete", ())}
    assert fake.secrets_by_id == {} and a.state().resources == {}


def test_refresh_drops_a_secret_removed_from_docker_and_never_sees_its_labels(fake, tmp_path):
    a = applier(fake, tmp_path)
    a.apply(secret_program(), refresh=False)
    (secret_id,) = fake.secrets_by_id
    fake.secrets_by_id[secret_id]["Spec"]["Labels"] = {"app": "edited-by-hand"}
    report = a.apply(secret_program(), refresh=True)
    assert report.refreshed == [] and report.changed() == {}  # resourceDockerSecretRead sets the name only
    fake.remove_service(next(iter(fake.services_by_id)))
    fake.remove_secret(secret_id)
    report = a.apply(secret_program(), refresh=True)
    assert {(c.name, c.action) for c in report.refreshed} == {("db-password-1", "gone"), ("db", "gone")}
    assert {name: action for name, (action, _) in report.changed().items()} == {
        "db-password-1": "create",
        "db": "create",
    }


# --- ignoreChanges: the placement platforms Docker records at create (spreadOver set) -------------

PLATFORMS = "taskSpec.placement.platforms"
SENT_PLATFORMS = [{"Architecture": "amd64", "OS": "linux"}]
ZONE_PREFERENCES = [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}]


def zoned_program(tag: str, gates: bool = False) -> DeclaredProgram:
    """The e2e stack with a placement declared (spreadOver: zone); ``gates``: with its dynamic rollout gates."""
    config = load_stack_config("dev", overrides={**E2E_OVERRIDES, "imageTag": tag, "spreadOver": "zone"})
    program = run_program(config, "e2e")
    return program if gates else docker_only(program)


@pytest.fixture(scope="module")
def zoned() -> dict[str, DeclaredProgram]:
    return {"v1": zoned_program("v1"), "v2": zoned_program("v2")}


def placed(program: DeclaredProgram) -> list[str]:
    """The services that declare a placement: the pools and the L7 tier (the edge is global)."""
    return [r.name for r in program.of_type(SERVICE) if "placement" in r.inputs["taskSpec"]]


def without_ignore_changes(program: DeclaredProgram) -> DeclaredProgram:
    return DeclaredProgram([dataclasses.replace(r, ignore_changes=()) for r in program.resources], program.outputs)


def with_resource(program: DeclaredProgram, name: str, **changes: Any) -> DeclaredProgram:
    return DeclaredProgram(
        [dataclasses.replace(r, **changes) if r.name == name else r for r in program.resources], program.outputs
    )


def sent(fake: FakeDocker, call: str) -> dict[str, dict[str, Any]]:
    """The service specs ``fake`` received in ``call`` (create_service, update_service), by service name."""
    return {spec["Name"]: spec for name, spec in fake.calls if name == call}


def test_the_zoned_program_declares_a_placement_and_ignores_the_platforms(zoned):
    program = zoned["v1"]
    assert placed(program) == ["szde2e-real", "szde2e-backup", "szde2e-nginx"]
    assert {r.name: r.ignore_changes for r in program.of_type(SERVICE)} == dict.fromkeys(
        names(program, SERVICE), (PLATFORMS,)
    )


def test_the_platforms_recorded_at_create_are_no_change_and_an_update_sends_them_again(fake, tmp_path, zoned):
    fake.digest = DIGEST  # the registry answers: QueryRegistry records the image's platforms
    a = applier(fake, tmp_path)
    a.apply(zoned["v1"], refresh=False)
    created = sent(fake, "create_service")
    assert len(created) == 4 and all(
        s["TaskTemplate"]["Placement"]["Platforms"] == SENT_PLATFORMS for s in created.values()
    )
    for logical in placed(zoned["v1"]):
        record = a.state().find(SERVICE, logical)
        assert record is not None
        assert record.outputs["taskSpec"]["placement"]["platforms"] == [{"architecture": "amd64", "os": "linux"}]
        assert "platforms" not in record.inputs["taskSpec"]["placement"]
    # The first `pulumi up` after the create: nothing to do, no task restarts.
    assert a.apply(zoned["v1"], refresh=False).changed() == {}
    assert a.apply(zoned["v1"], refresh=True).changed() == {}
    assert sent(fake, "update_service") == {}
    # An image change updates the pools only, and what it sends keeps the preferences and the platforms.
    report = a.apply(zoned["v2"], refresh=False)
    assert report.changed() == {
        real(zoned["v2"]): ("update", IMAGE_CHANGE),
        backup(zoned["v2"]): ("update", IMAGE_CHANGE),
    }
    updated = sent(fake, "update_service")
    assert set(updated) == {service_name(fake, a, real(zoned["v2"])), service_name(fake, a, backup(zoned["v2"]))}
    for spec in updated.values():
        assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == pinned("szd-testapp:v2")
        assert spec["TaskTemplate"]["Placement"] == {"Preferences": ZONE_PREFERENCES, "Platforms": SENT_PLATFORMS}
    assert a.apply(zoned["v2"], refresh=False).changed() == {}
    assert a.apply(zoned["v2"], refresh=True).changed() == {}


def test_without_the_ignore_the_first_apply_after_a_create_updates_every_placed_service(fake, tmp_path, zoned):
    fake.digest = DIGEST
    program = without_ignore_changes(zoned["v1"])
    a = applier(fake, tmp_path)
    a.apply(program, refresh=False)
    # The same program, applied again: each service with a placement drops the recorded platforms.
    report = a.apply(program, refresh=False)
    assert report.changed() == dict.fromkeys(placed(program), ("update", (PLATFORMS,)))
    updated = sent(fake, "update_service")
    assert set(updated) == {service_name(fake, a, logical) for logical in placed(program)}
    assert all(s["TaskTemplate"]["Placement"] == {"Preferences": ZONE_PREFERENCES} for s in updated.values())
    # Docker now has no platforms: the next apply has nothing to do.
    assert a.apply(program, refresh=False).changed() == {}


@pytest.mark.parametrize("path", ["taskSpec.containerSpec.image", "taskSpec.placement.prefs", "taskSpec.placement"])
def test_ignoring_a_path_the_old_inputs_set_is_refused_naming_it(fake, tmp_path, zoned, path):
    # The engine would first copy the old inputs' value there onto the new inputs
    # (processIgnoreChanges), which the applier does not model.
    logical = real(zoned["v1"])
    a = applier(fake, tmp_path)
    ignoring = with_resource(zoned["v1"], logical, ignore_changes=(PLATFORMS, path))
    a.apply(ignoring, refresh=False)  # a create: ignoreChanges play no part
    refusal = rf"^{logical}: ignoreChanges on {re.escape(path)}, which its old inputs set, is not modelled"
    with pytest.raises(ApplyError, match=refusal) as refused:
        a.apply(ignoring, refresh=False)
    assert refused.value.report is not None
    assert sent(fake, "update_service") == {}
    # The state is as the create left it, and the program's own ignore applies.
    assert a.apply(zoned["v1"], refresh=False).changed() == {}


def test_ignore_changes_on_a_dynamic_resource_is_refused(fake, tmp_path):
    full = zoned_program("v1", gates=True)
    gate = next(r for r in full.resources if is_dynamic(r.type))  # a pool's RolloutGate
    program = docker_only(full)
    program.resources.append(dataclasses.replace(gate, ignore_changes=("image",)))
    a = applier(fake, tmp_path)
    a._new_host = lambda: pytest.fail("the dynamic provider host was started")
    with pytest.raises(ApplyError, match=rf"^{gate.name}: ignoreChanges on a dynamic resource is not modelled"):
        a.apply(program, refresh=False)
    assert a.state().find(gate.type, gate.name) is None
