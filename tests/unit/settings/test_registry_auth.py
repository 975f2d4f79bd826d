"""docker:registryAuth, the provider's key the program relies on for private images: checked at preview."""

from __future__ import annotations

import json

import pytest

from offline_runner.mock_program import run_stack
from swarm_zero_downtime.settings import SettingsError

KEY = "docker:registryAuth"
PASSWORD = "hunter2-registry"
ENTRY = {"address": "registry.example.com:5000", "username": "deploy", "password": PASSWORD}


def problems(value: object, secret: bool = True) -> list[str]:
    text = json.dumps(value)
    try:
        run_stack("dev", secrets={KEY: text}) if secret else run_stack("dev", overrides={KEY: value})
    except SettingsError as error:
        assert PASSWORD not in str(error)
        return error.problems
    return []


def test_an_entry_set_as_a_secret_passes():
    assert problems([ENTRY]) == []


def test_a_password_in_plain_text_is_refused_with_the_command_that_fixes_it():
    (problem,) = problems([ENTRY], secret=False)
    assert problem.startswith(f"{KEY}: a password is stored in plain text")
    assert "pulumi config set --secret --path 'docker:registryAuth[0].password'" in problem


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ({"address": "x"}, f"{KEY}: must be a list of {{address, username, password}} objects"),
        ([{**ENTRY, "address": "not a host"}], f"{KEY}[0].address: must be a registry host"),
        ([{**ENTRY, "user": "x"}], f"{KEY}[0]: unknown field(s) user; allowed: address, authDisabled"),
        ([{**ENTRY, "password": 5}], f"{KEY}[0]: password must be text"),
        ([{**ENTRY, "password": ""}], f"{KEY}[0].password: missing for username"),
    ],
)
def test_a_bad_entry_names_its_field(value: object, fragment: str):
    found = problems(value)
    assert any(p.startswith(fragment) for p in found), found
