"""The keys of a program of your own, under a namespace of its stack config (load_settings_under)."""

from __future__ import annotations

import pulumi
import pytest

from offline_runner.stack_config import project
from swarm_zero_downtime.settings import SettingsError, load_settings, load_settings_under
from tests.support.consumer import KEYS, NAMESPACE, namespaced


def test_keys_under_a_namespace_take_the_defaults_where_unset(namespaced_config):
    namespaced_config(namespaced(KEYS, NAMESPACE))
    settings = load_settings_under(NAMESPACE)
    assert (settings.app.name, settings.app.image, settings.pools.real_replicas) == (
        "shop",
        "registry.example.com/acme/shop:v3",
        3,
    )
    # Every other key as a stack of this project that sets only these.
    name, defaults = project()
    namespaced_config(namespaced({**defaults, **KEYS}, name))
    assert settings == load_settings(pulumi.Config(name))


def test_a_bad_key_under_a_namespace_is_named_as_the_user_set_it(namespaced_config):
    namespaced_config(namespaced({**KEYS, "appPort": "0", "publishedPort": "http"}, NAMESPACE))
    with pytest.raises(SettingsError) as raised:
        load_settings_under(NAMESPACE)
    assert [p.split(":")[0:2] for p in raised.value.problems] == [["shop", "appPort"], ["shop", "publishedPort"]]


def test_a_secret_key_under_a_namespace_is_checked_as_a_secret(namespaced_config):
    namespaced_config(namespaced({"appSecrets": '{"DB_PASSWORD": "hunter2"}'}, NAMESPACE))
    with pytest.raises(SettingsError) as raised:
        load_settings_under(NAMESPACE)
    assert "shop:appSecrets: is stored in plain text" in str(raised.value)
    assert "hunter2" not in str(raised.value)
