"""The TLS keys: secrets only, both or neither, never shown in a message."""

from __future__ import annotations

import pulumi
import pytest

from offline_runner.mock_program import run_stack
from offline_runner.stack_config import load_stack_config, project_name
from settings import SettingsError, load_settings
from tests.support.tls import issue

KEY = "swarm-zero-downtime:"


@pytest.fixture(scope="module")
def certificate():
    return issue("app.example.com")


def problems(**kwargs) -> list[str]:
    with pytest.raises(SettingsError) as error:
        run_stack("dev", **kwargs)
    return error.value.problems


def test_keys_set_in_plain_text_are_refused(certificate):
    found = problems(overrides=certificate.secrets)
    assert sorted(p.split(": ")[0] for p in found) == [f"{KEY}tlsCertificate", f"{KEY}tlsKey"]
    assert all("pulumi config set --secret" in p for p in found)
    assert not any("BEGIN" in p for p in found)


def test_a_key_without_a_certificate_is_refused(certificate):
    (problem,) = problems(secrets={"tlsKey": certificate.key})
    assert problem == f"{KEY}tlsCertificate: is empty while tlsKey is set; set both (TLS) or neither (plain HTTP)"


def test_a_certificate_without_a_key_is_refused(certificate):
    (problem,) = problems(secrets={"tlsCertificate": certificate.chain})
    assert problem.startswith(f"{KEY}tlsKey: is empty while tlsCertificate is set")


@pytest.mark.parametrize(
    "field,value,fragment",
    [
        ("tlsKey", "not a key at all", "must be empty (no TLS), or one unencrypted PEM private key"),
        ("tlsCertificate", "-----BEGIN CERTIFICATE-----\n@@@\n-----END CERTIFICATE-----", "PEM certificates"),
        ("tlsCertificate", "-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----", "not valid base64"),
        ("tlsKey", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "one unencrypted PEM private key"),
        ("tlsKey", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", "unencrypted"),
    ],
)
def test_malformed_pem_is_named_without_echoing_the_secret(certificate, field, value, fragment):
    secrets = {**certificate.secrets, field: value}
    (problem,) = problems(secrets=secrets)
    assert problem.startswith(f"{KEY}{field}: (secret value not shown) ")
    assert fragment in problem
    assert value not in problem


def test_two_keys_in_one_value_are_refused(certificate):
    (problem,) = problems(secrets={**certificate.secrets, "tlsKey": certificate.key + certificate.key})
    assert problem.startswith(f"{KEY}tlsKey: ")


def test_https_and_http_cannot_share_a_port(certificate):
    (problem,) = problems(overrides={"httpsPort": 80}, secrets=certificate.secrets)
    assert problem == f"{KEY}httpsPort: 80 is also publishedPort; HTTP and HTTPS need a port each"


def test_a_valid_pair_passes(certificate):
    run_stack("dev", secrets=certificate.secrets)


def base64_pieces(pem: str, size: int = 16) -> list[str]:
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return [body[i : i + size] for i in range(0, len(body) - size + 1, size)]


def test_no_repr_or_str_of_the_settings_shows_a_secret(certificate):
    pulumi.runtime.set_all_config(
        load_stack_config("dev", overrides=certificate.secrets), [f"{KEY}tlsCertificate", f"{KEY}tlsKey"]
    )
    settings = load_settings(pulumi.Config(project_name()))
    assert settings.tls.certificate is not None
    for text in (repr(settings), str(settings)):
        assert settings.tls.certificate.sha256 in text
        assert "BEGIN" not in text and "\\x" not in text
        assert not [piece for piece in base64_pieces(certificate.chain + certificate.key) if piece in text]


def test_a_secret_of_any_key_is_not_shown_in_its_problem():
    (problem,) = problems(secrets={"imageTag": "v1 ; hunter2"})
    assert problem.startswith(f"{KEY}imageTag: (secret value not shown) must be an image tag")
    assert "hunter2" not in problem
