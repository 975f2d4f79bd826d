"""Secrets in the applier's state: sealed, never in plain text, and still enough for the diff."""

from __future__ import annotations

import json
from typing import Any

from engine_standin.swarm_applier.schema import SCHEMAS
from engine_standin.swarm_applier.state import (
    ResourceState,
    StackState,
    is_sealed,
    open_secrets,
    seal_inputs,
    seal_outputs,
    sealed_matches,
)
from engine_standin.swarm_applier.translate import SECRET_SIG, SIG_KEY, is_secret, reveal
from offline_runner.resource_types import SECRET, SERVICE


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def test_reveal_unwraps_every_secret():
    assert reveal({"a": secret("x"), "b": [secret({"c": secret(1)})], "d": 2}) == {"a": "x", "b": [{"c": 1}], "d": 2}


def test_inputs_keep_only_a_salted_digest_of_each_secret():
    sealed = seal_inputs({"name": "pw", "data": secret("aHVudGVyMg==")})
    assert sealed["name"] == "pw"
    assert is_secret(sealed["data"]) and is_sealed(sealed["data"]) and "value" not in sealed["data"]
    assert "aHVudGVyMg==" not in json.dumps(sealed)
    assert sealed_matches(sealed["data"], "aHVudGVyMg==") and not sealed_matches(sealed["data"], "aGk=")
    # Salted: the same value sealed afresh gives another digest, but an unchanged secret keeps its seal.
    again = seal_inputs({"data": secret("aHVudGVyMg==")})
    assert again["data"] != sealed["data"]
    assert seal_inputs({"data": secret("aHVudGVyMg==")}, sealed)["data"] == sealed["data"]
    assert seal_inputs({"data": secret("aGk=")}, sealed)["data"] != sealed["data"]


def test_outputs_seal_sensitive_attributes_even_without_a_secret_input():
    outputs = {"name": "pw", "data": "aGk=", "labels": []}
    sealed = seal_outputs(SCHEMAS[SECRET], outputs, ({"data": "aGk="},))
    assert is_sealed(sealed["data"]) and sealed["name"] == "pw"


def test_outputs_take_the_secretness_of_their_inputs_objects_recursing_arrays_whole():
    # provider_plugin.go annotateSecrets: objects recurse, anything else is a secret as a whole.
    inputs = {
        "taskSpec": {
            "containerSpec": {"image": "x", "hostname": secret("h")},
            "networksAdvanceds": [{"id": "n1", "aliases": [secret("a")]}],
        }
    }
    outputs = {
        "taskSpec": {
            "containerSpec": {"image": "x", "hostname": "h", "init": False},
            "networksAdvanceds": [{"id": "n1", "aliases": ["a"], "driverOpts": []}],
        },
        "name": "web",
    }
    sealed = seal_outputs(SCHEMAS[SERVICE], outputs, (inputs,))
    cs = sealed["taskSpec"]["containerSpec"]
    assert is_sealed(cs["hostname"]) and cs["image"] == "x" and cs["init"] is False
    assert is_sealed(sealed["taskSpec"]["networksAdvanceds"])
    assert sealed["name"] == "web"
    # A read-back (no secrets in it) takes the secretness of the prior outputs again.
    reread = seal_outputs(SCHEMAS[SERVICE], outputs, (sealed,), sealed)
    assert reread == sealed


def test_whole_floats_and_ints_seal_alike():
    sealed = seal_inputs({"n": secret(2.0)})
    assert sealed_matches(sealed["n"], 2)


def test_open_secrets_puts_back_only_the_matching_plain_values():
    prior = seal_inputs({"data": secret("aGk="), "labels": [{"label": "a", "value": secret("b")}], "name": "pw"})
    same = {"data": "aGk=", "labels": [{"label": "a", "value": "b"}], "name": "pw"}
    assert open_secrets(prior, same) == same
    opened = open_secrets(prior, {"data": "aGkh", "name": "pw"})
    assert is_sealed(opened["data"]) and is_sealed(opened["labels"][0]["value"]) and opened["name"] == "pw"


def test_the_state_file_holds_no_secret(tmp_path):
    state = StackState(tmp_path / "s.json")
    inputs = {"data": secret("c3VwM3Iteg==")}
    outputs = seal_outputs(SCHEMAS[SECRET], {"name": "pw", "data": "c3VwM3Iteg=="}, (inputs,))
    state.put(ResourceState("urn:x::pw", SECRET, "sec1", seal_inputs(inputs), outputs))
    text = state.path.read_text(encoding="utf-8")
    assert "c3VwM3Iteg==" not in text and "sup3r-z" not in text
    loaded = StackState.load("s", tmp_path).get("urn:x::pw")
    assert loaded is not None and sealed_matches(loaded.outputs["data"], "c3VwM3Iteg==")
