"""The X-Registry-Auth the release step sends: what the modelled provider sends for a service of the same image."""

from __future__ import annotations

import base64
import json

import pytest

from engine_standin.swarm_applier.registry_auth import REGISTRY_AUTH_KEY, provider_auth_configs, service_registry_auth
from swarm_zero_downtime.swarm.registry_auth import EMPTY_AUTH, x_registry_auth

PRIVATE = "registry.example:5000"
ENTRIES = [
    {"address": f"https://{PRIVATE}/v2/", "username": "deploy", "password": "pw&<x>"},
    {"address": "http://insecure.example", "username": "u", "password": "p"},
    {"address": "docker.io", "username": "hub", "password": "h"},
]
DIGEST = f"@sha256:{'a' * 64}"


@pytest.mark.parametrize(
    "image",
    [
        f"{PRIVATE}/team/app:v1{DIGEST}",
        f"insecure.example/app:v1{DIGEST}",
        f"registry-1.docker.io/library/app:v1{DIGEST}",
        f"elsewhere.example/app:v1{DIGEST}",
        f"windowforsun/test-web:latest{DIGEST}",
        "app:v1",
    ],
)
def test_the_header_is_the_one_the_provider_sends_with_a_service_of_the_image(image):
    raw = json.dumps(ENTRIES)
    assert x_registry_auth(image, raw) == service_registry_auth(image, provider_auth_configs({REGISTRY_AUTH_KEY: raw}))


def test_no_registry_auth_and_an_entry_without_a_username_send_the_empty_auth_config():
    image = f"{PRIVATE}/team/app:v1{DIGEST}"
    assert x_registry_auth(image, None) == EMPTY_AUTH
    assert x_registry_auth(image, json.dumps([{"address": PRIVATE, "configFile": "/x.json"}])) == EMPTY_AUTH


def test_an_image_on_a_registry_with_an_entry_gets_its_credentials():
    header = x_registry_auth(f"{PRIVATE}/team/app:v1{DIGEST}", json.dumps(ENTRIES))
    assert json.loads(base64.urlsafe_b64decode(header)) == {
        "username": "deploy",
        "password": "pw&<x>",
        "serveraddress": f"https://{PRIVATE}",
    }
