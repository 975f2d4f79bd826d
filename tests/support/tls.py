"""Throw-away certificate authorities and the stack secrets that carry their certificates."""

from __future__ import annotations

import datetime
import ssl
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class IssuedCertificate:
    ca: trustme.CA
    chain: str
    """PEM: the server certificate, then its intermediates (tlsCertificate)."""
    key: str
    """PEM private key (tlsKey)."""

    @property
    def server_der(self) -> bytes:
        """The server certificate (the chain's first), as a TLS handshake shows it."""
        end = "-----END CERTIFICATE-----"
        return ssl.PEM_cert_to_DER_cert(self.chain.split(end)[0] + end + "\n")

    @property
    def secrets(self) -> dict[str, str]:
        """The stack secrets that deploy this certificate."""
        return {"tlsCertificate": self.chain, "tlsKey": self.key}

    def ca_file(self, directory: Path) -> Path:
        """The CA's certificate, written for a client to verify the server against."""
        path = directory / "ca.pem"
        self.ca.cert_pem.write_to_path(str(path))
        return path


def issue(
    hostname: str,
    ca: trustme.CA | None = None,
    not_after: datetime.datetime | None = None,
    key_type: trustme.KeyType = trustme.KeyType.ECDSA,
) -> IssuedCertificate:
    """A certificate for a new ``key_type`` key and ``hostname`` from ``ca`` (a new CA when None), valid until
    ``not_after`` (trustme's default)."""
    ca = ca or trustme.CA()
    cert = ca.issue_cert(hostname, not_after=not_after, key_type=key_type)
    chain = "".join(blob.bytes().decode() for blob in cert.cert_chain_pems)
    return IssuedCertificate(ca=ca, chain=chain, key=cert.private_key_pem.bytes().decode())


PrivateKey = (
    dsa.DSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
    | rsa.RSAPrivateKey
)


def self_signed(hostname: str, key: PrivateKey) -> dict[str, str]:
    """The stack secrets of a self-signed certificate for ``hostname`` and ``key``."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    # Ed25519 and Ed448 sign without a separate digest.
    digest = None if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey) else hashes.SHA256()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, digest)
    )
    return {
        "tlsCertificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "tlsKey": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    }


def self_signed_rsa_pss(hostname: str, bits: int) -> dict[str, str]:
    """``self_signed`` for an RSA-PSS key, made by OpenSSL's command line: cryptography reads such keys only as RSA."""
    with tempfile.TemporaryDirectory() as directory:
        key, cert = f"{directory}/key.pem", f"{directory}/cert.pem"
        subject = ["-subj", f"/CN={hostname}", "-addext", f"subjectAltName=DNS:{hostname}"]
        for command in (
            ["genpkey", "-algorithm", "RSA-PSS", "-pkeyopt", f"rsa_keygen_bits:{bits}", "-out", key],
            ["req", "-x509", "-key", key, *subject, "-days", "1", "-out", cert],
        ):
            subprocess.run(["openssl", *command], capture_output=True, check=True, timeout=60)
        return {"tlsCertificate": Path(cert).read_text(), "tlsKey": Path(key).read_text()}


# A self-signed pair of each kind of key the L7 tier may be given, by name; made when called.
PAIRS: dict[str, Callable[[str], dict[str, str]]] = {
    "rsa-2048": lambda host: self_signed(host, rsa.generate_private_key(65537, 2048)),
    "rsa-1024": lambda host: self_signed(host, rsa.generate_private_key(65537, 1024)),
    "rsa-pss-2048": lambda host: self_signed_rsa_pss(host, 2048),
    "rsa-pss-1024": lambda host: self_signed_rsa_pss(host, 1024),
    "ec-p256": lambda host: self_signed(host, ec.generate_private_key(ec.SECP256R1())),
    "ec-p384": lambda host: self_signed(host, ec.generate_private_key(ec.SECP384R1())),
    "ec-p521": lambda host: self_signed(host, ec.generate_private_key(ec.SECP521R1())),
    "ec-p224": lambda host: self_signed(host, ec.generate_private_key(ec.SECP224R1())),
    "ec-secp256k1": lambda host: self_signed(host, ec.generate_private_key(ec.SECP256K1())),
    "ec-brainpoolp256r1": lambda host: self_signed(host, ec.generate_private_key(ec.BrainpoolP256R1())),
    "ed25519": lambda host: self_signed(host, ed25519.Ed25519PrivateKey.generate()),
    "ed448": lambda host: self_signed(host, ed448.Ed448PrivateKey.generate()),
    # OpenSSL loads a DSA pair, so nginx -t passes; but TLS 1.3 has no DSA
    # signature and the L7 tier's TLS 1.2 ciphers are ECDSA and RSA only.
    "dsa-2048": lambda host: self_signed(host, dsa.generate_private_key(key_size=2048)),
}
