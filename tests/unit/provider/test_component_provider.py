"""The component provider (provider/), started as the Pulumi CLI starts it and driven over gRPC as the
engine would: its schema, and a Construct against a recording resource monitor."""

from __future__ import annotations

from collections.abc import Iterator

import grpc  # type: ignore[import-untyped]
import pytest
import yaml
from pulumi.provider.experimental.util import camel_case

from engine_standin.construct_engine import Constructed, ProviderHost, provider_host, stack_urn
from offline_runner.mock_program import DeclaredProgram
from offline_runner.stack_config import REPO_ROOT, project
from swarm_zero_downtime.components.base import component_type
from tests.support.consumer import KEYS, NAMESPACE, comparable, namespaced, this_program

PROVIDER = REPO_ROOT / "provider"
TYPE = component_type("ZeroDowntimeDeployment")
STACK = "dev"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProviderHost]:
    # Started from another folder: the plugin must not depend on where the CLI stands.
    with provider_host(PROVIDER, cwd=tmp_path_factory.mktemp("elsewhere")) as started:
        yield started


@pytest.fixture(scope="module")
def ours() -> DeclaredProgram:
    """This repository's program, for the same keys (under its own project's name, as its stacks set them)."""
    return this_program(KEYS, STACK)


def construct(host: ProviderHost, keys: dict[str, str], secret_keys: list[str] | None = None) -> Constructed:
    """The component constructed from a program whose stack sets ``keys`` under the namespace
    (a TypeScript program's, say: the engine hands every provider the caller's config)."""
    return host.construct(
        TYPE,
        "shop",
        {"configNamespace": NAMESPACE},
        project=project()[0],
        stack=STACK,
        config=namespaced(keys, NAMESPACE),
        secret_keys=secret_keys,
    )


def test_the_plugin_manifest_names_the_python_runtime_and_the_programs_pins():
    manifest = yaml.safe_load((PROVIDER / "PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    assert (PROVIDER / "requirements.txt").read_text().splitlines()[-1] == "-r ../requirements.txt"


def test_the_schema_is_the_component_with_its_namespace_input_and_the_stack_outputs(host, ours):
    schema = host.schema()
    name, _ = project()
    assert schema["name"] == name
    assert list(schema["resources"]) == [TYPE]
    resource = schema["resources"][TYPE]
    assert resource["isComponent"] is True
    assert resource["inputProperties"] == {
        "configNamespace": {
            "type": "string",
            "description": "Where this package's keys are in your stack config: `shop` for `pulumi config set shop:imageTag v3`.",
        }
    }
    assert resource["requiredInputs"] == ["configNamespace"]
    # Every output this repository's stacks export, and nothing else, under its schema name.
    assert set(resource["properties"]) == {camel_case(output) for output in ours.outputs}


def test_construct_registers_what_this_program_registers_for_the_same_keys(host, ours):
    constructed = construct(host, KEYS)
    assert comparable([[r.type, r.name, r.inputs] for r in constructed.registered]) == comparable(
        [[r.type, r.name, r.inputs] for r in ours.resources]
    )
    assert sorted((r.name, r.parent.rsplit("::", 1)[-1]) for r in constructed.registered) == sorted(
        (r.name, r.parent.rsplit("::", 1)[-1]) for r in ours.resources
    )
    top = next(r for r in constructed.registered if r.type == TYPE)
    assert (constructed.urn, top.parent) == (top.urn, stack_urn(project()[0], STACK))
    assert constructed.state["url"] == ours.outputs["url"]
    assert constructed.state["realServiceName"] == ours.outputs["real_service_name"]
    # The rollout plan reaches the engine's log, which a preview shows.
    assert any(line.startswith("rollout of the real pool: 3 task(s)") for line in constructed.logs)


def test_a_bad_key_fails_the_construct_naming_the_callers_key(host):
    with pytest.raises(grpc.RpcError) as raised:
        construct(host, {**KEYS, "appPort": "0"})
    assert "shop:appPort: " in str(raised.value.details())


def test_a_secret_in_plain_text_is_refused_and_never_shown(host):
    with pytest.raises(grpc.RpcError) as raised:
        construct(host, {**KEYS, "appSecrets": '{"DB_PASSWORD": "hunter2"}'})
    assert "shop:appSecrets: is stored in plain text" in str(raised.value.details())
    assert "hunter2" not in str(raised.value.details())


def test_a_secret_set_as_one_reaches_the_pools(host):
    constructed = construct(host, {**KEYS, "appSecrets": '{"DB_PASSWORD": "hunter2"}'}, [f"{NAMESPACE}:appSecrets"])
    secrets = [r for r in constructed.registered if r.type == "docker:index/secret:Secret"]
    assert [s.name for s in secrets] == ["shop-secret-DB_PASSWORD"]
