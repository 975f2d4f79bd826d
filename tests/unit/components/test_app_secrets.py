"""appSecrets as the program declares them: one Swarm secret each, mounted into both pools, never shown."""

from __future__ import annotations

import base64
import json

import pytest

from engine_standin.swarm_applier.translate import SECRET_SIG, SIG_KEY
from offline_runner.mock_program import DeclaredProgram, auto_name, run_stack
from offline_runner.resource_types import SECRET
from swarm_zero_downtime.swarm.rollout_gate import GATE_TYPE
from tests.unit.conftest import service

SECRETS = {"DB_PASSWORD": "hunter2-Pa55", "API_TOKEN": "t0ken-xyz"}
ROTATED = {**SECRETS, "DB_PASSWORD": "another-Pa55"}
POOLS = ("webapp-real", "webapp-backup")


def declared(app_secrets: dict[str, str], **overrides: object) -> DeclaredProgram:
    return run_stack("dev", overrides=overrides, secrets={"appSecrets": json.dumps(app_secrets)})


@pytest.fixture(scope="module")
def program() -> DeclaredProgram:
    return declared(SECRETS)


@pytest.fixture(scope="module")
def rotated() -> DeclaredProgram:
    return declared(ROTATED)


def test_each_entry_is_one_swarm_secret_its_data_a_pulumi_secret(program):
    secrets = {r.name: r for r in program.of_type(SECRET) if "-secret-" in r.name}
    assert sorted(secrets) == ["webapp-secret-API_TOKEN", "webapp-secret-DB_PASSWORD"]
    for name, value in SECRETS.items():
        resource = secrets[f"webapp-secret-{name}"]
        # Auto-named: a new value can be created beside the old one before it is deleted.
        assert set(resource.inputs) == {"data"}
        assert resource.inputs["data"] == {SIG_KEY: SECRET_SIG, "value": b64(value)}
        assert resource.parent.endswith("ZeroDowntimeDeployment::webapp")


@pytest.mark.parametrize("pool", POOLS)
def test_both_pools_mount_every_secret_and_point_name_file_at_it(program, pool):
    container = service(program, pool).inputs["taskSpec"]["containerSpec"]
    assert container["secrets"] == [
        {
            "secretId": f"id-of-webapp-secret-{name}",
            "secretName": auto_name(f"webapp-secret-{name}"),
            "fileName": name,
            "fileMode": 0o444,
        }
        for name in SECRETS
    ]
    assert container["env"] == {f"{name}_FILE": f"/run/secrets/{name}" for name in SECRETS}
    assert set(service(program, pool).dependencies) >= {program.get(SECRET, f"webapp-secret-{n}").urn for n in SECRETS}


def test_app_env_is_kept_beside_them_and_the_nginx_tiers_mount_none(program):
    both = declared(SECRETS, appEnv={"LOG_LEVEL": "info"})
    assert service(both, "webapp-real").inputs["taskSpec"]["containerSpec"]["env"] == {
        "LOG_LEVEL": "info",
        "DB_PASSWORD_FILE": "/run/secrets/DB_PASSWORD",
        "API_TOKEN_FILE": "/run/secrets/API_TOKEN",
    }
    for tier in ("webapp-nginx", "webapp-edge"):
        assert "secrets" not in service(program, tier).inputs["taskSpec"]["containerSpec"]


def test_no_value_is_in_a_name_an_urn_a_label_or_any_input_but_the_secret_data(program):
    texts = [*SECRETS.values(), *(b64(v) for v in SECRETS.values())]
    for resource in program.resources:
        inputs = {k: v for k, v in resource.inputs.items() if not (resource.type == SECRET and k == "data")}
        shown = json.dumps([resource.urn, resource.name, inputs])
        assert not [text for text in texts if text in shown], resource.urn
    assert not [text for text in texts if text in json.dumps(program.outputs)]


def test_a_new_value_changes_the_secrets_data_alone(program, rotated):
    # The same URNs: a new value replaces the Swarm secret, never a pool.
    before = {r.urn: r.inputs for r in program.resources}
    after = {r.urn: r.inputs for r in rotated.resources}
    assert sorted(after) == sorted(before)
    assert [urn.rsplit("::", 1)[1] for urn in after if after[urn] != before[urn]] == ["webapp-secret-DB_PASSWORD"]
    # The pools and the gate take the new secret by its id, known once it is created.
    gate = program.get(GATE_TYPE, "webapp-real-rollout")
    assert gate.inputs["secret_ids"] == ["id-of-webapp-secret-DB_PASSWORD", "id-of-webapp-secret-API_TOKEN"]


def test_a_stack_without_secrets_declares_what_it_did_before(dev):
    assert not [r for r in dev.of_type(SECRET) if "-secret-" in r.name]
    for pool in POOLS:
        assert "secrets" not in service(dev, pool).inputs["taskSpec"]["containerSpec"]
    assert "secret_ids" not in dev.get(GATE_TYPE, "webapp-real-rollout").inputs


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()
