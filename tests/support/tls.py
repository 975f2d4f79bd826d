"""Throw-away certificate authorities and the stack secrets that carry their certificates."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


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


def issue(hostname: str, ca: trustme.CA | None = None) -> IssuedCertificate:
    """A certificate for ``hostname`` from ``ca`` (a new CA when None)."""
    ca = ca or trustme.CA()
    cert = ca.issue_cert(hostname)
    chain = "".join(blob.bytes().decode() for blob in cert.cert_chain_pems)
    return IssuedCertificate(ca=ca, chain=chain, key=cert.private_key_pem.bytes().decode())
