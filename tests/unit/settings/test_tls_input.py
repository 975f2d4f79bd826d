"""The TLS keys: secrets only, both or neither, never shown in a message."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pulumi
import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from offline_runner.mock_program import run_stack
from offline_runner.stack_config import load_stack_config, project_name
from swarm_zero_downtime.settings import SettingsError, load_settings
from swarm_zero_downtime.settings.reader import SECRET_NOT_SHOWN
from tests.support.tls import PAIRS, IssuedCertificate, issue
from tools.config_docs import config_table

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


def issued(key_type: trustme.KeyType) -> IssuedCertificate:
    return issue("app.example.com", trustme.CA(key_type=key_type), key_type=key_type)


RSA = trustme.KeyType.RSA
EC = trustme.KeyType.ECDSA
NOT_A_KEY = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"
NOT_A_CERTIFICATE = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"


def encrypted(key: str, form: serialization.PrivateFormat) -> str:
    loaded = serialization.load_pem_private_key(key.encode(), password=None)
    algorithm = serialization.BestAvailableEncryption(b"passphrase")
    return loaded.private_bytes(serialization.Encoding.PEM, form, algorithm).decode()


@pytest.mark.parametrize("key_type", [RSA, EC], ids=["rsa", "ec"])
def test_a_matching_pair_passes(key_type):
    run_stack("dev", secrets=issued(key_type).secrets)


def test_a_chain_with_an_intermediate_passes():
    run_stack("dev", secrets=issue("app.example.com", trustme.CA().create_child_ca()).secrets)


MISMATCH = "is not the private key of the first certificate in tlsCertificate"


@pytest.mark.parametrize(
    "pair, field, fragment",
    [
        (lambda: {**issued(RSA).secrets, "tlsKey": issued(EC).key}, "tlsKey", MISMATCH),
        (lambda: {**issued(EC).secrets, "tlsKey": issued(RSA).key}, "tlsKey", MISMATCH),
        (lambda: {**issued(EC).secrets, "tlsKey": issued(EC).key}, "tlsKey", MISMATCH),
        (lambda: {**issued(RSA).secrets, "tlsKey": issued(RSA).key}, "tlsKey", MISMATCH),
        (lambda: {**issued(EC).secrets, "tlsKey": NOT_A_KEY}, "tlsKey", "the key does not parse"),
        (
            lambda: {**issued(EC).secrets, "tlsCertificate": NOT_A_CERTIFICATE},
            "tlsCertificate",
            "a certificate does not parse",
        ),
        (
            lambda: {**issued(EC).secrets, "tlsCertificate": issued(EC).chain + NOT_A_CERTIFICATE},
            "tlsCertificate",
            "a certificate does not parse",
        ),
        (lambda: wrong_order(issue("app.example.com", trustme.CA().create_child_ca())), "tlsKey", MISMATCH),
        (
            lambda: with_its_key_cut_short(PAIRS["rsa-2048"]("app.example.com")),
            "tlsCertificate",
            "the server certificate's key does not parse",
        ),
    ],
    ids=[
        "rsa-certificate-ec-key",
        "ec-certificate-rsa-key",
        "another-certificates-ec-key",
        "another-certificates-rsa-key",
        "not-a-key",
        "not-a-certificate",
        "not-an-intermediate",
        "chain-in-the-wrong-order",
        "a-certificate-whose-key-does-not-parse",
    ],
)
def test_a_pair_openssl_refuses_is_named_without_echoing_it(pair, field, fragment):
    secrets = pair()
    (problem,) = problems(secrets=secrets)
    assert problem.startswith(f"{KEY}{field}: ")
    assert fragment in problem
    assert "BEGIN" not in problem
    assert not [piece for value in secrets.values() for piece in base64_pieces(value, 8) if piece in problem]


SERVED_KEYS = ["rsa-2048", "rsa-pss-2048", "ec-p256", "ec-p384", "ec-p521", "ed25519", "ed448"]
UNSERVED_KEYS = {
    "rsa-1024": "a 1024-bit RSA key",
    "rsa-pss-1024": "a 1024-bit RSA-PSS key",
    "ec-p224": "an EC key on the curve of OID 1.3.132.0.33",
    "ec-secp256k1": "an EC key on the curve of OID 1.3.132.0.10",
    "ec-brainpoolp256r1": "an EC key on the curve of OID 1.3.36.3.3.2.8.1.1.7",
    "dsa-2048": "a DSA key",
}
SERVED_KEYS_TEXT = (
    "an RSA or RSA-PSS key of at least 2048 bits, an EC key on P-256, P-384 or P-521, or an Ed25519 or Ed448 key"
)


def test_every_kind_of_key_is_decided_and_the_served_ones_are_documented():
    assert sorted([*SERVED_KEYS, *UNSERVED_KEYS]) == sorted(PAIRS)
    assert SERVED_KEYS_TEXT in config_table()


@pytest.mark.parametrize("key_type", SERVED_KEYS)
def test_a_pair_for_a_key_nginx_serves_passes(key_type):
    run_stack("dev", secrets=PAIRS[key_type]("app.example.com"))


@pytest.mark.parametrize("key_type, found", UNSERVED_KEYS.items(), ids=UNSERVED_KEYS)
def test_a_pair_for_a_key_nginx_cannot_serve_is_refused_naming_the_keys_it_can(key_type, found):
    secrets = PAIRS[key_type]("app.example.com")
    (problem,) = problems(secrets=secrets)
    assert (
        problem == f"{KEY}tlsCertificate: is for {found}, which nginx cannot serve; it must be for {SERVED_KEYS_TEXT}"
    )
    assert not [piece for value in secrets.values() for piece in base64_pieces(value, 8) if piece in problem]


def with_its_key_cut_short(pair: dict[str, str]) -> dict[str, str]:
    """The pair with its certificate's RSA key given a length of 1: OpenSSL parses such a certificate."""
    der = ssl.PEM_cert_to_DER_cert(pair["tlsCertificate"])
    # RSAPublicKey of a 2048-bit modulus: SEQUENCE (30 82 01 0a), INTEGER (02 82 01 01 00 ...).
    whole, cut = bytes.fromhex("3082010a0282010100"), bytes.fromhex("3081010a0282010100")
    assert whole in der
    return {**pair, "tlsCertificate": ssl.DER_cert_to_PEM_cert(der.replace(whole, cut, 1))}


def wrong_order(certificate: IssuedCertificate) -> dict[str, str]:
    end = "-----END CERTIFICATE-----"
    server, intermediate, *_ = certificate.chain.split(end)
    return {"tlsCertificate": f"{intermediate.strip()}\n{end}\n{server.strip()}\n{end}\n", "tlsKey": certificate.key}


@pytest.mark.parametrize(
    "form",
    [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL],
    ids=["pkcs8", "traditional"],
)
def test_an_encrypted_key_is_refused(certificate, form):
    (problem,) = problems(secrets={**certificate.secrets, "tlsKey": encrypted(certificate.key, form)})
    assert problem.startswith(f"{KEY}tlsKey: {SECRET_NOT_SHOWN} must be empty (no TLS), or one unencrypted PEM")


@pytest.mark.parametrize("fails", [False, True], ids=["loads", "fails"])
def test_the_pair_is_checked_from_a_private_file_removed_after(certificate, monkeypatch, fails):
    seen: list[tuple[Path, int]] = []
    load = ssl.SSLContext.load_cert_chain

    def recording(self, certfile, *args, **kwargs):
        seen.append((Path(certfile), os.stat(certfile).st_mode & 0o777))
        return load(self, os.devnull if fails else certfile, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", recording)
    if fails:
        assert [p.split(": ")[0] for p in problems(secrets=certificate.secrets)] == [f"{KEY}tlsKey"]
    else:
        run_stack("dev", secrets=certificate.secrets)
    ((path, mode),) = seen
    assert mode == 0o600
    assert not path.exists()
