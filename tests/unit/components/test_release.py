"""The release step as the program declares it: from the pinned app image, as the pools run the app, before
the real pool; nothing at all when releaseCommand is empty."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pytest

from engine_standin.swarm_applier.translate import SECRET_SIG, SIG_KEY
from offline_runner.mock_program import DeclaredProgram, auto_name, run_stack
from offline_runner.resource_types import NETWORK, SECRET
from swarm_zero_downtime.swarm.release_step import AUTH_KEY, RELEASE_TYPE
from swarm_zero_downtime.swarm.rollout_gate import GATE_TYPE
from tests.unit.conftest import service

COMMAND = ["bin/migrate", "--to", "latest"]
SECRETS = {"appSecrets": json.dumps({"DB_PASSWORD": "hunter2-Pa55"})}


def declared(secrets: dict[str, str] | None = None, **overrides: object) -> DeclaredProgram:
    return run_stack("dev", overrides={"releaseCommand": COMMAND, **overrides}, secrets=secrets)


@pytest.fixture(scope="module")
def program() -> DeclaredProgram:
    return declared(SECRETS, appEnv={"LOG_LEVEL": "info"})


def test_no_release_command_declares_no_release_step(dev):
    assert dev.of_type(RELEASE_TYPE) == []


def test_the_step_runs_the_command_from_the_real_pools_image_as_the_pools_run_the_app(program):
    step = program.get(RELEASE_TYPE, "webapp-release")
    real = service(program, "webapp-real").inputs["taskSpec"]["containerSpec"]
    inputs = step.inputs
    assert inputs["image"] == real["image"] and "@sha256:" in inputs["image"]
    assert inputs["command"] == COMMAND
    assert inputs["env"] == real["env"] == {"LOG_LEVEL": "info", "DB_PASSWORD_FILE": "/run/secrets/DB_PASSWORD"}
    assert inputs["secrets"] == [
        {
            "secret_id": ref["secretId"],
            "secret_name": ref["secretName"],
            "file_name": ref["fileName"],
            "file_mode": ref["fileMode"],
        }
        for ref in real["secrets"]
    ]
    assert inputs["secrets"][0]["secret_name"] == auto_name("webapp-secret-DB_PASSWORD")
    assert inputs["network_id"] == program.get(NETWORK, "webapp-net").id
    assert inputs["timeout_s"] == 600
    assert inputs["app_name"] == "webapp"
    # Public images on Docker Hub with no registryAuth: nothing to send, no credentials among the inputs.
    assert AUTH_KEY not in inputs
    # Pickled by reference to this project's module, so the engine's host imports the same code.
    assert "swarm_zero_downtime.swarm.release_step" in base64.b64decode(inputs["__provider"]).decode("latin-1")


def test_the_real_pool_waits_for_the_step_and_the_step_for_nothing_of_the_pools(program):
    step = program.get(RELEASE_TYPE, "webapp-release")
    real, backup = service(program, "webapp-real"), service(program, "webapp-backup")
    assert step.urn in real.dependencies
    assert real.urn in backup.dependencies
    pools = {real.urn, backup.urn, program.get(GATE_TYPE, "webapp-real-rollout").urn}
    assert not pools & set(step.dependencies)
    secret = program.get(SECRET, "webapp-secret-DB_PASSWORD")
    assert {secret.urn, program.get(NETWORK, "webapp-net").urn} <= set(step.dependencies)
    assert step.parent.endswith("ZeroDowntimeDeployment::webapp")


def test_the_step_pulls_with_the_credentials_the_pools_get_as_a_secret():
    registry = "registry.example.com:5000"
    auth = [{"address": registry, "username": "deploy", "password": "s3cret-pw"}]
    program = declared({"docker:registryAuth": json.dumps(auth)}, appImage=f"{registry}/team/app")
    sent = program.get(RELEASE_TYPE, "webapp-release").inputs[AUTH_KEY]
    assert sent[SIG_KEY] == SECRET_SIG
    assert json.loads(base64.urlsafe_b64decode(sent["value"])) == {
        "username": "deploy",
        "password": "s3cret-pw",
        "serveraddress": f"https://{registry}",
    }


def test_the_release_timeout_is_the_steps():
    assert declared(releaseTimeout="1m30s").get(RELEASE_TYPE, "webapp-release").inputs["timeout_s"] == 90


def test_preview_says_what_will_run_from_which_image(monkeypatch):
    said: list[str] = []

    def info(message: str, resource: Any = None, **_: Any) -> None:
        said.append(message)

    monkeypatch.setattr(pulumi.log, "info", info)
    program = declared()
    image = program.get(RELEASE_TYPE, "webapp-release").inputs["image"]
    (line,) = [m for m in said if m.startswith("release step")]
    assert line.startswith(f"release step: `bin/migrate --to latest` runs from {image} before the real pool rolls")
