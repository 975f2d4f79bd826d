"""The TLS section: the certificate and key the L7 tier serves HTTPS with, and the port.

Both keys are Pulumi secrets (``pulumi config set --secret``); empty, the
default, means no TLS.
"""

from __future__ import annotations

import hashlib
import ssl
import tempfile
from dataclasses import dataclass, field

from settings.parsers import CERTIFICATE_CHAIN, PORT, PRIVATE_KEY, Rule
from settings.reader import SECRET_NOT_SHOWN, ConfigReader

RULES: dict[str, Rule[object]] = {
    "httpsPort": PORT,
    "tlsCertificate": CERTIFICATE_CHAIN,
    "tlsKey": PRIVATE_KEY,
}
SECRET_KEYS = ("tlsCertificate", "tlsKey")


@dataclass(frozen=True)
class Certificate:
    # Out of the repr, so no log line or traceback that shows the settings shows the key.
    pem: str = field(repr=False)
    """The chain, then the key: the one file nginx reads both from. A secret."""
    sha256: str
    """The server certificate's fingerprint: public, it names the Swarm secret."""


@dataclass(frozen=True)
class TlsSettings:
    https_port: int
    certificate: Certificate | None
    """None: no TLS; the stack serves plain HTTP only."""


def read_tls(r: ConfigReader) -> TlsSettings | None:
    https_port = r.read("httpsPort", PORT)
    chain = r.read_secret("tlsCertificate", CERTIFICATE_CHAIN)
    key = r.read_secret("tlsKey", PRIVATE_KEY)
    if not r.all_parsed(*RULES):
        return None
    assert https_port is not None
    if chain is None and key is None:
        return TlsSettings(https_port, None)
    if chain is None or key is None:
        missing, given = ("tlsKey", "tlsCertificate") if key is None else ("tlsCertificate", "tlsKey")
        r.require(False, missing, f"is empty while {given} is set; set both (TLS) or neither (plain HTTP)")
        return None
    pem = f"{chain.text}\n{key.text}\n"
    refused = _refused_by_openssl(chain.text, pem)
    if refused is not None:
        r.require(False, *refused)
        return None
    return TlsSettings(https_port, Certificate(pem=pem, sha256=hashlib.sha256(chain.ders[0]).hexdigest()))


def _refused_by_openssl(chain: str, pem: str) -> tuple[str, str] | None:
    """(key, problem) when OpenSSL refuses the chain or the key in ``pem``, the file nginx loads both from.

    Well-formed PEM can still hold a certificate that does not parse, a key that
    does not, or a key of another certificate: nginx -t is the first to say so
    otherwise, or, with a key of another type, only every handshake.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_verify_locations(cadata=chain)
    except ssl.SSLError:
        return "tlsCertificate", f"{SECRET_NOT_SHOWN} must be {CERTIFICATE_CHAIN.allowed}; a certificate does not parse"
    # OpenSSL reads a key from a file only: this one is created readable by
    # this user alone (mkstemp) and removed when the block ends, however it ends.
    with tempfile.NamedTemporaryFile("w", suffix=".pem", encoding="utf-8") as file:
        file.write(pem)
        file.flush()
        try:
            # A password callback, so an encrypted key fails here instead of prompting.
            context.load_cert_chain(file.name, password=lambda: b"")
        except ssl.SSLError as error:
            if error.reason == "KEY_VALUES_MISMATCH":
                return "tlsKey", (
                    "is not the private key of the first certificate in tlsCertificate: give the key that"
                    " certificate was issued for, and put the server's certificate first, then its intermediates"
                )
            return "tlsKey", f"{SECRET_NOT_SHOWN} must be {PRIVATE_KEY.allowed}; the key does not parse"
    return None


def check_tls(r: ConfigReader) -> None:
    """HTTP and HTTPS cannot share a published port."""
    if r.all_parsed("httpsPort", "publishedPort", "tlsCertificate") and r.parsed["tlsCertificate"] is not None:
        r.require(
            r.parsed["httpsPort"] != r.parsed["publishedPort"],
            "httpsPort",
            f"{r.parsed['httpsPort']} is also publishedPort; HTTP and HTTPS need a port each",
        )
