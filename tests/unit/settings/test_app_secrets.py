"""appSecrets: set with --secret only, every entry checked, no value ever in a problem or a repr."""

from __future__ import annotations

import json

import pulumi
import pytest

from offline_runner.mock_program import run_stack
from offline_runner.stack_config import load_stack_config, project_name
from swarm_zero_downtime.settings import SettingsError, load_settings
from swarm_zero_downtime.settings.reader import SECRET_NOT_SHOWN
from swarm_zero_downtime.settings.secrets import VALUE_MAX_BYTES, AppSecret

KEY = "swarm-zero-downtime:appSecrets"
VALUE = "hunter2-Pa55"


def problems(app_secrets: object, **overrides: object) -> list[str]:
    with pytest.raises(SettingsError) as error:
        run_stack("dev", overrides=overrides, secrets={"appSecrets": json.dumps(app_secrets)})
    found = error.value.problems
    assert not [p for p in found if VALUE in p], found
    assert VALUE not in str(error.value)
    return found


def test_secrets_in_plain_text_are_refused_with_the_command_that_sets_them():
    with pytest.raises(SettingsError) as error:
        run_stack("dev", overrides={"appSecrets": {"DB_PASSWORD": VALUE}})
    (problem,) = error.value.problems
    assert problem == (
        f"{KEY}: is stored in plain text in the stack file; set it with"
        " `pulumi config set --secret --path 'appSecrets.NAME' VALUE`"
    )


@pytest.mark.parametrize(
    "app_secrets, fragment",
    [
        ({"1ST": VALUE}, "entry '1ST': the name must be a map"),
        ({"DB-PASSWORD": VALUE}, "entry 'DB-PASSWORD': the name must be"),
        ({"../etc/passwd": VALUE}, "entry '../etc/passwd': the name must be"),
        ({"A" * 65: VALUE}, "the name must be"),
        ({"DB_PASSWORD": ""}, "appSecrets.DB_PASSWORD: the value must be text, not only whitespace"),
        ({"DB_PASSWORD": " \n"}, "appSecrets.DB_PASSWORD: the value must be text, not only whitespace"),
        ({"DB_PASSWORD": 5432}, "appSecrets.DB_PASSWORD: the value must be text"),
        ({"DB_PASSWORD": {"v": VALUE}}, "appSecrets.DB_PASSWORD: the value must be text"),
        ({"DB_PASSWORD": VALUE + "\0"}, "appSecrets.DB_PASSWORD: the value must be text"),
        (
            {"DB_PASSWORD": VALUE + "x" * VALUE_MAX_BYTES},
            f"appSecrets.DB_PASSWORD: the value is {VALUE_MAX_BYTES + len(VALUE)} bytes; Swarm takes a secret of at most"
            f" {VALUE_MAX_BYTES}",
        ),
        ([VALUE], "must be a map"),
        (VALUE, "must be a map"),
        ({f"K{i}": VALUE for i in range(201)}, "this has 201 entries"),
    ],
)
def test_a_bad_entry_is_named_and_its_value_never_shown(app_secrets, fragment):
    (problem,) = problems(app_secrets)
    assert problem.startswith(f"{KEY}: {SECRET_NOT_SHOWN} "), problem
    assert fragment in problem


def test_the_largest_value_swarm_takes_passes():
    run_stack("dev", secrets={"appSecrets": json.dumps({"BLOB": "x" * VALUE_MAX_BYTES})})


@pytest.mark.parametrize("variable", ["DB_PASSWORD", "DB_PASSWORD_FILE"])
def test_an_app_env_variable_of_a_secret_is_refused_naming_both_keys(variable):
    (problem,) = problems({"DB_PASSWORD": VALUE}, appEnv={variable: "x", "OTHER": "y"})
    assert problem.startswith(f"{KEY}: appSecrets.DB_PASSWORD and appEnv.{variable} collide"), problem


def test_a_name_too_long_for_swarm_with_this_app_name_is_refused():
    name = "A" * 30
    # 32 + "-secret-" + 30 + the 8 of the auto-name suffix: 78, above Swarm's 64.
    (problem,) = problems({name: VALUE}, appName="a" * 32)
    assert problem == (
        f"{KEY}: appSecrets.{name}: with appName '{'a' * 32}' the name can be at most 16 characters"
        " (Swarm names a secret in at most 64)"
    )


def test_values_are_kept_out_of_every_repr():
    config = load_stack_config("dev", overrides={"appSecrets": json.dumps({"DB_PASSWORD": VALUE, "TOKEN": "t0k"})})
    pulumi.runtime.set_all_config(config, [KEY])
    settings = load_settings(pulumi.Config(project_name()))
    assert settings.app.secrets == (AppSecret("DB_PASSWORD", VALUE), AppSecret("TOKEN", "t0k"))
    assert repr(settings.app.secrets[0]) == "AppSecret(name='DB_PASSWORD')"
    assert VALUE not in repr(settings) and VALUE not in str(settings)
    assert (settings.app.secrets[0].path, settings.app.secrets[0].file_variable) == (
        "/run/secrets/DB_PASSWORD",
        "DB_PASSWORD_FILE",
    )
