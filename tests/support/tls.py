"""Throw-away certificate authorities and the stack secrets that carry their certificates."""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa
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


def issue(hostname: str, ca: trustme.CA | None = None, not_after: datetime.datetime | None = None) -> IssuedCertificate:
    """A certificate for ``hostname`` from ``ca`` (a new CA when None), valid until ``not_after`` (trustme's default)."""
    ca = ca or trustme.CA()
    cert = ca.issue_cert(hostname, not_after=not_after)
    chain = "".join(blob.bytes().decode() for blob in cert.cert_chain_pems)
    return IssuedCertificate(ca=ca, chain=chain, key=cert.private_key_pem.bytes().decode())


def self_signed_dsa(hostname: str) -> dict[str, str]:
    """The stack secrets of a self-signed DSA certificate for ``hostname``.

    OpenSSL loads the pair, so validation and nginx accept it; but TLS 1.3 has
    no DSA signature and the L7 tier's TLS 1.2 ciphers are ECDSA and RSA only,
    so no handshake can complete.
    """
    key = dsa.generate_private_key(key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return {
        "tlsCertificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "tlsKey": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
    }
