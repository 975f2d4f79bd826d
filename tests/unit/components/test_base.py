"""The spec fingerprint every gated service carries as a label and its rollout gate waits for."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from offline_runner.mock_program import DeclaredProgram, DeclaredResource, run_stack
from swarm_zero_downtime.components.app_pool import AppPoolArgs
from swarm_zero_downtime.components.base import _plain, spec_fingerprint, spec_label
from swarm_zero_downtime.components.edge import EdgeArgs
from swarm_zero_downtime.components.l7_tier import L7TierArgs
from swarm_zero_downtime.settings.secrets import AppSecret
from swarm_zero_downtime.settings.tls import Certificate
from swarm_zero_downtime.swarm.naming import SPEC_LABEL
from swarm_zero_downtime.swarm.rollout_gate import GATE_TYPE
from swarm_zero_downtime.swarm.values import SECOND, Duration
from tests.support.tls import IssuedCertificate, issue
from tests.unit.conftest import run_stack_with_args, service

HOST = "app.example.com"
# The dev stack with every optional part there (TLS, a served host name, the backup pool):
# no field of any component's args is None, so each can be changed to another value of its kind.
FULL = {
    "httpsPort": 8443,
    "publicHost": HOST,
    "appEnv": {"A": "1", "B": "2"},
    "appCommand": ["run"],
    "appArgs": ["--fast"],
    "appStopSignal": "SIGINT",
    "edgeDrain": "5s",
    **{
        key: {"limits": {"cpus": "1", "memory": "256M"}, "reservations": {"cpus": "0.25", "memory": "64M"}}
        for key in ("appResources", "nginxResources", "edgeResources")
    },
}
# Set with --secret, as the TLS keys: the app pools' secrets, of which no value may reach a label or a gate.
APP_SECRETS = {"DB_PASSWORD": "hunter2-Pa55", "API_TOKEN": "t0ken-xyz"}
COMPONENTS = ("webapp-real", "webapp-backup", "webapp-nginx", "webapp-edge")
GATED = ("webapp-real", "webapp-nginx", "webapp-edge")
SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclasses.dataclass(frozen=True)
class Declared:
    program: DeclaredProgram
    args: dict[str, Any]
    """Each component's ``*Args`` by name."""
    issued: IssuedCertificate


@pytest.fixture(scope="module")
def full() -> Declared:
    issued = issue(HOST)
    program, args = run_stack_with_args("dev", overrides=FULL, secrets=full_secrets(issued))
    return Declared(program, args, issued)


def full_secrets(issued: IssuedCertificate, app_secrets: dict[str, str] = APP_SECRETS) -> dict[str, str]:
    return {**issued.secrets, "appSecrets": json.dumps(app_secrets)}


@pytest.fixture(scope="module")
def dev_args() -> tuple[DeclaredProgram, dict[str, Any]]:
    return run_stack_with_args("dev")


def other_certificate(certificate: Certificate) -> Certificate:
    other = issue(HOST)
    return Certificate(pem=other.chain + other.key, sha256=certificate.sha256[::-1])


def changed(value: Any) -> Any:
    """Another value of ``value``'s kind (a leaf of a component's args)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "-changed"
    if isinstance(value, Duration):
        return Duration(value.nanos + SECOND)
    if isinstance(value, Certificate):
        return other_certificate(value)
    if isinstance(value, tuple) and value:
        return value[:-1]
    raise AssertionError(f"no other value for a {type(value).__name__} ({value!r}): teach changed() one")


def variants(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """``value`` with one leaf changed, for every leaf under it but Outputs (known only at deploy)."""
    if isinstance(value, pulumi.Output):
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, (type, Duration, Certificate)):
        for field in dataclasses.fields(value):
            for where, other in variants(getattr(value, field.name), f"{path}.{field.name}"):
                yield where, dataclasses.replace(value, **{field.name: other})
        return
    assert value is not None, f"{path} is None: the args under test should set every field"
    yield path, changed(value)


def spec_label_of(resource: DeclaredResource) -> str:
    (value,) = [label["value"] for label in resource.inputs["labels"] if label["label"] == SPEC_LABEL]
    return str(value)


def gate(program: DeclaredProgram, service_name: str) -> DeclaredResource:
    return program.get(GATE_TYPE, f"{service_name}-rollout")


# --- spec_fingerprint on its own -------------------------------------------------------------


def test_the_args_under_test_are_the_components(full):
    assert sorted(full.args) == sorted(COMPONENTS)
    assert isinstance(full.args["webapp-real"], AppPoolArgs)
    assert isinstance(full.args["webapp-nginx"], L7TierArgs)
    assert isinstance(full.args["webapp-edge"], EdgeArgs)
    assert full.args["webapp-nginx"].certificate is not None


def test_equal_args_have_the_same_fingerprint_run_after_run(full):
    # Another run declares equal args: another network Output, other objects, the same values.
    _, again = run_stack_with_args("dev", overrides=FULL, secrets=full_secrets(full.issued))
    for name in COMPONENTS:
        args = full.args[name]
        fingerprint = spec_fingerprint(args)
        assert SHA256.fullmatch(fingerprint)
        assert spec_fingerprint(dataclasses.replace(args)) == fingerprint
        assert all(getattr(again[name], n) is not getattr(args, n) for n in network_ids(args))
        assert spec_fingerprint(again[name]) == fingerprint


@pytest.mark.parametrize("name", COMPONENTS)
def test_a_change_of_any_field_is_another_fingerprint(full, name):
    args = full.args[name]
    changes = dict(variants(args, type(args).__name__))
    # Every field but the network ids is in there, nested ones leaf by leaf.
    top = {path.split(".")[1] for path in changes}
    assert top == {f.name for f in dataclasses.fields(args)} - set(network_ids(args))
    fingerprints = {path: spec_fingerprint(other) for path, other in changes.items()}
    assert [path for path, fingerprint in fingerprints.items() if fingerprint == spec_fingerprint(args)] == []
    # And no two changes give the same fingerprint.
    assert len(set(fingerprints.values())) == len(fingerprints)


@pytest.mark.parametrize("name", COMPONENTS)
def test_leaving_out_any_field_is_another_fingerprint(full, name):
    # None is how an optional part (TLS, a certificate, an https port) is left out.
    args = full.args[name]
    names = [f.name for f in dataclasses.fields(args) if f.name not in network_ids(args)]
    fingerprints = {n: spec_fingerprint(dataclasses.replace(args, **{n: None})) for n in names}
    assert spec_fingerprint(args) not in fingerprints.values()
    assert len(set(fingerprints.values())) == len(names)


@pytest.mark.parametrize("name", COMPONENTS)
def test_the_network_ids_do_not_count(full, name):
    args = full.args[name]
    for field in network_ids(args):
        assert isinstance(getattr(args, field), pulumi.Output)
        other = dataclasses.replace(args, **{field: pulumi.Output.from_input("id-of-another-network")})
        assert spec_fingerprint(other) == spec_fingerprint(args)
        assert _plain(args)[type(args).__name__][field] == "<known at deploy>"


def network_ids(args: object) -> list[str]:
    """The args' network ids: Outputs known at deploy, kept out of the fingerprint."""
    names = [f.name for f in dataclasses.fields(args) if f.name.endswith("network_id")]  # type: ignore[arg-type]
    assert names
    return names


def test_a_certificate_counts_by_its_public_fingerprint_only(full):
    args = full.args["webapp-nginx"]
    certificate = args.certificate
    assert certificate is not None and full.issued.key in certificate.pem
    # Another pem (another key) under the same fingerprint: the same spec.
    other = issue(HOST)
    same_sha = dataclasses.replace(certificate, pem=other.chain + other.key)
    assert spec_fingerprint(dataclasses.replace(args, certificate=same_sha)) == spec_fingerprint(args)
    # Another fingerprint: another spec.
    assert spec_fingerprint(dataclasses.replace(args, certificate=other_certificate(certificate))) != (
        spec_fingerprint(args)
    )
    assert _plain(certificate) == {"certificate": certificate.sha256}


def test_the_pem_never_enters_what_is_hashed(full):
    args = full.args["webapp-nginx"]
    assert args.certificate is not None
    hashed = json.dumps(_plain(args), sort_keys=True)
    assert args.certificate.sha256 in hashed
    assert args.certificate.pem not in hashed
    for line in args.certificate.pem.splitlines():
        if line and not line.startswith("-----"):
            assert line not in hashed
    assert "PRIVATE KEY" not in hashed and "CERTIFICATE" not in hashed


def test_nothing_of_the_key_reaches_a_label_or_a_gate(full):
    # Gate inputs and service labels are plain in the state and the preview.
    key_lines = [line for line in full.issued.key.splitlines() if line and not line.startswith("-----")]
    for name in GATED:
        shown = json.dumps([service(full.program, name).inputs["labels"], gate(full.program, name).inputs])
        assert "PRIVATE KEY" not in shown
        assert not [line for line in key_lines if line in shown]


def test_no_secret_value_reaches_a_label_or_a_gate_and_a_new_one_keeps_the_fingerprint(full):
    rotated = {**APP_SECRETS, "DB_PASSWORD": "another-Pa55"}
    _, args = run_stack_with_args("dev", overrides=FULL, secrets=full_secrets(full.issued, rotated))
    for name in ("webapp-real", "webapp-backup"):
        shown = json.dumps([service(full.program, name).inputs["labels"], _plain(full.args[name])])
        assert not [value for value in APP_SECRETS.values() if value in shown]
        # Values count by their Swarm secret, known at deploy: the same fingerprint after a rotation.
        assert spec_fingerprint(args[name]) == spec_fingerprint(full.args[name])
    gate_inputs = json.dumps(gate(full.program, "webapp-real").inputs)
    assert not [value for value in APP_SECRETS.values() if value in gate_inputs]
    assert gate(full.program, "webapp-real").inputs["secret_ids"] == [
        "id-of-webapp-secret-DB_PASSWORD",
        "id-of-webapp-secret-API_TOKEN",
    ]


def test_a_secret_value_in_the_args_raises_rather_than_enter_a_label(full):
    args = full.args["webapp-real"]
    with pytest.raises(TypeError, match="a secret's value has no place in a spec label"):
        spec_fingerprint(dataclasses.replace(args, alias=AppSecret("DB_PASSWORD", "hunter2")))


@pytest.mark.parametrize(
    "value, kind",
    [
        ({1, 2}, "set"),
        (b"webapp-real", "bytes"),
        (Path("/etc/nginx"), "PosixPath"),
        (AppPoolArgs, "type"),
        (object(), "object"),
    ],
)
def test_an_unsupported_value_raises(value, kind):
    with pytest.raises(TypeError, match=f"no plain form for a {kind}$"):
        _plain(value)
    with pytest.raises(TypeError, match=f"no plain form for a {kind}$"):
        _plain({"nested": [value]})


def test_an_unsupported_value_in_the_args_raises(full):
    args = full.args["webapp-real"]
    with pytest.raises(TypeError, match="no plain form for a bytes"):
        spec_fingerprint(dataclasses.replace(args, alias=b"webapp-real"))


def test_plain_forms():
    assert _plain(Duration(90 * SECOND)) == "1m30s"
    assert _plain(None) is None
    assert _plain((1, "a", 2.5, True)) == [1, "a", 2.5, True]
    assert _plain({1: Duration(SECOND)}) == {"1": "1s"}
    assert _plain(Certificate(pem="secret", sha256="ab")) == {"certificate": "ab"}


def test_spec_label(full):
    args = full.args["webapp-real"]
    label = spec_label(args)
    assert label.label == SPEC_LABEL == "swarm-zero-downtime.spec-sha256"
    assert label.value == spec_fingerprint(args)


# --- through the program ---------------------------------------------------------------------


@pytest.mark.parametrize("name", COMPONENTS)
def test_every_service_carries_the_fingerprint_of_its_args(dev_args, name):
    program, args = dev_args
    label = spec_label_of(service(program, name))
    assert SHA256.fullmatch(label)
    assert label == spec_fingerprint(args[name])


@pytest.mark.parametrize("name", GATED)
def test_every_gate_waits_for_the_spec_its_service_carries(stack_program, name):
    label = spec_label_of(service(stack_program, name))
    assert SHA256.fullmatch(label)
    assert gate(stack_program, name).inputs["spec_sha256"] == label


@pytest.mark.parametrize("name", GATED)
def test_with_tls_too(full, name):
    label = spec_label_of(service(full.program, name))
    assert label == gate(full.program, name).inputs["spec_sha256"] == spec_fingerprint(full.args[name])


def test_the_pools_differ_by_their_role_and_gate(dev_args):
    program, _ = dev_args
    assert spec_label_of(service(program, "webapp-real")) != spec_label_of(service(program, "webapp-backup"))


def moved(before: DeclaredProgram, after: DeclaredProgram) -> tuple[list[str], list[str]]:
    """The services whose spec label moved, and the gates whose spec_sha256 did."""
    labels = [n for n in COMPONENTS if spec_label_of(service(before, n)) != spec_label_of(service(after, n))]
    gates = [n for n in GATED if gate(before, n).inputs["spec_sha256"] != gate(after, n).inputs["spec_sha256"]]
    return labels, gates


def test_an_l7_only_setting_moves_the_l7_tier_alone(dev):
    changed_program = run_stack("dev", overrides={"nginxFailTimeout": "5s"})
    assert moved(dev, changed_program) == (["webapp-nginx"], ["webapp-nginx"])


def test_the_grace_period_moves_every_spec_the_edges_gate_too(dev):
    # The edge's gate used to see only its image, config, ports and publish mode.
    changed_program = run_stack("dev", overrides={"stopGracePeriod": "20s"})
    assert moved(dev, changed_program) == (list(COMPONENTS), list(GATED))
    assert service(changed_program, "webapp-edge").inputs["taskSpec"]["containerSpec"]["stopGracePeriod"] == "20s"


def test_an_app_image_change_moves_the_pools_alone(dev):
    changed_program = run_stack("dev", overrides={"imageTag": "v2"})
    assert moved(dev, changed_program) == (["webapp-real", "webapp-backup"], ["webapp-real"])
