"""The provider's registryAuth: parsed as kreuzwerker v4.5.0 does, and sent with every service create and update."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from engine_standin.swarm_applier import ApplyError
from engine_standin.swarm_applier.registry_auth import (
    EMPTY_AUTH,
    REGISTRY_AUTH_KEY,
    AuthConfig,
    RegistryAuthNotModelled,
    provider_auth_configs,
    service_registry_auth,
)
from offline_runner.mock_program import run_program
from offline_runner.stack_config import load_stack_config
from tests.e2e.harness import E2E_OVERRIDES
from tests.unit.engine_standin.fake_docker import FakeDocker
from tests.unit.engine_standin.test_apply_fake import applier, docker_only

PRIVATE = "registry.example:5000"
ENTRY = {"address": PRIVATE, "username": "deploy", "password": "pw&<x>"}


def configs(*entries: Mapping[str, object]) -> dict[str, AuthConfig]:
    return provider_auth_configs({REGISTRY_AUTH_KEY: json.dumps(list(entries))})


def test_entries_are_keyed_by_host_with_their_canonical_address():
    found = configs(ENTRY, {"address": "http://insecure.example/v2/", "username": "u", "password": "p"})
    assert found == {
        PRIVATE: AuthConfig(f"https://{PRIVATE}", "deploy", "pw&<x>"),
        "insecure.example": AuthConfig("http://insecure.example", "u", "p"),
    }
    assert "pw" not in repr(found)


def test_no_registry_auth_is_no_credentials():
    assert provider_auth_configs({}) == {}


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"address": PRIVATE, "configFile": "~/.docker/config.json"}, "configFile not modelled"),
        ({"address": PRIVATE, "authDisabled": True, "username": "u"}, "authDisabled not modelled"),
        ({"address": PRIVATE}, "no username"),
        ({"address": "ghcr.io", "username": "u", "password": "p"}, "rewrites its tokens"),
        ({"address": "1.dkr.ecr.eu-west-1.amazonaws.com", "username": "AWS", "password": "p"}, "rewrites its tokens"),
    ],
)
def test_what_is_not_modelled_is_refused(entry: dict[str, object], match: str):
    with pytest.raises(RegistryAuthNotModelled, match=match):
        configs(entry)


def test_a_value_that_is_not_a_list_of_objects_is_refused():
    with pytest.raises(ApplyError, match="not a list of objects"):
        provider_auth_configs({REGISTRY_AUTH_KEY: '{"address": "x"}'})


def test_a_service_header_is_go_json_of_the_auth_config_in_padded_url_safe_base64():
    header = service_registry_auth(f"{PRIVATE}/team/app:v1@sha256:{'a' * 64}", configs(ENTRY))
    # json.Marshal escapes <, > and & and keeps the struct's field order.
    expected = (
        '{"username":"deploy","password":"pw\\u0026\\u003cx\\u003e","serveraddress":"https://registry.example:5000"}'
    )
    assert base64.urlsafe_b64decode(header).decode() == expected
    assert header.endswith("=") or len(header) % 4 == 0


@pytest.mark.parametrize("image", ["nginx:1.30", "other.example/team/app:v1", "library/nginx"])
def test_an_image_on_another_registry_gets_the_empty_auth_config(image: str):
    assert service_registry_auth(image, configs(ENTRY)) == EMPTY_AUTH
    assert base64.urlsafe_b64decode(EMPTY_AUTH) == b"{}"


def test_a_docker_hub_image_gets_a_docker_hub_entry():
    hub = {"address": "docker.io", "username": "u", "password": "p"}
    assert service_registry_auth("registry-1.docker.io/team/app:v1", configs(hub)) != EMPTY_AUTH


def test_every_service_create_update_and_registry_query_sends_the_providers_credentials(tmp_path: Path):
    def program(tag: str):
        overrides = {**E2E_OVERRIDES, "appImage": f"{PRIVATE}/team/app", "imageTag": tag, REGISTRY_AUTH_KEY: [ENTRY]}
        config = load_stack_config("dev", overrides=overrides)
        return docker_only(run_program(config, "e2e", secret_keys=[REGISTRY_AUTH_KEY]))

    fake = FakeDocker()
    fake.digest = "sha256:" + "e" * 64
    a = applier(fake, tmp_path)
    a.apply(program("v1"), refresh=False)
    a.apply(program("v2"), refresh=False)
    private = configs(ENTRY)[PRIVATE].x_registry_auth()
    sent = {(path.split("/")[1], header) for path, header in fake.registry_auths}
    # The pools' image is on the private registry; the nginx tiers' is not, and gets {}.
    assert sent == {
        ("services", private),
        ("distribution", private),
        ("services", EMPTY_AUTH),
        ("distribution", EMPTY_AUTH),
    }
    updates = [header for path, header in fake.registry_auths if path.endswith("/update")]
    assert updates == [private, private]  # the two pools, v1 -> v2
