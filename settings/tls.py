"""The TLS section: the certificate and key the L7 tier serves HTTPS with, and the port.

Both keys are Pulumi secrets (``pulumi config set --secret``); empty, the
default, means no TLS.
"""

from __future__ import annotations

import hashlib
import ssl
import tempfile
from dataclasses import dataclass, field

from swarm_zero_downtime.settings.certificate_key import public_key
from swarm_zero_downtime.settings.parsers import CERTIFICATE_CHAIN, PORT, PRIVATE_KEY, Rule
from swarm_zero_downtime.settings.reader import SECRET_NOT_SHOWN, ConfigReader

RULES: dict[str, Rule[object]] = {
    "httpsPort": PORT,
    "tlsCertificate": CERTIFICATE_CHAIN,
    "tlsKey": PRIVATE_KEY,
}
SECRET_KEYS = ("tlsCertificate", "tlsKey")

# The keys nginx 1.30 with OpenSSL 3 serves to OpenSSL's clients (Python's ssl
# over TLS 1.3 and 1.2, curl), measured in tests/nginx/test_tls_key_types.py.
# nginx starts with a DSA key, or an EC key on another curve, and then fails
# Python's ssl's handshakes. OpenSSL's default security level (2) refuses an
# RSA key under 2048 bits: nginx -t fails with "ee key too small".
RSA_MIN_BITS = 2048
SERVED_ALGORITHMS = ("RSA", "RSA-PSS", "Ed25519", "Ed448")
SERVED_CURVES = ("P-256", "P-384", "P-521")
SERVED_KEYS = (
    f"an RSA or RSA-PSS key of at least {RSA_MIN_BITS} bits, an EC key on P-256, P-384 or P-521,"
    " or an Ed25519 or Ed448 key"
)


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
    refused = _unparsed_chain(chain.text) or _unserved_key(chain.ders[0]) or _refused_pair(pem)
    if refused is not None:
        r.require(False, *refused)
        return None
    return TlsSettings(https_port, Certificate(pem=pem, sha256=hashlib.sha256(chain.ders[0]).hexdigest()))


def _unparsed_chain(chain: str) -> tuple[str, str] | None:
    """(key, problem) when OpenSSL cannot parse a certificate of the chain: well-formed PEM may still not be one."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_verify_locations(cadata=chain)
    except ssl.SSLError:
        return "tlsCertificate", f"{SECRET_NOT_SHOWN} must be {CERTIFICATE_CHAIN.allowed}; a certificate does not parse"
    return None


def _unserved_key(server_der: bytes) -> tuple[str, str] | None:
    """(key, problem) when the server certificate is for a key nginx cannot serve, or one that does not parse.

    Checked before the pair is loaded: the OpenSSL running the program may
    refuse a short RSA key there, which would read as a key that does not parse.
    """
    try:
        key = public_key(server_der)
    except ValueError:
        return (
            "tlsCertificate",
            f"{SECRET_NOT_SHOWN} must be {CERTIFICATE_CHAIN.allowed}; the server certificate's key does not parse",
        )
    if key.algorithm == "EC":
        served = key.curve in SERVED_CURVES
    else:
        served = key.algorithm in SERVED_ALGORITHMS and (key.rsa_bits or RSA_MIN_BITS) >= RSA_MIN_BITS
    if served:
        return None
    return "tlsCertificate", f"is for {key}, which nginx cannot serve; it must be for {SERVED_KEYS}"


def _refused_pair(pem: str) -> tuple[str, str] | None:
    """(key, problem) when OpenSSL refuses the key in ``pem``, the file nginx loads the chain and key from.

    A key that does not parse, or a key of another certificate: nginx -t is the
    first to say so otherwise, or, with a key of another type, only every handshake.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # OpenSSL reads a key from a file only: this one is created readable by
    # this user alone (mkstemp) and removed when the block ends, however it ends.
    with tempfile.NamedTemporaryFile("w", suffix=".pem", encoding="utf-8") as file:
        file.write(pem)
        file.flush()
        try:
            # A password callback, so an encrypted key fails here instead of prompting.
            context.load_cert_chain(file.name, password=lambda: b"")
        except ssl.SSLError as error:
            # A key of another type than the certificate's goes to another of
            # OpenSSL's slots (one per key type), left without a certificate.
            if error.reason in ("KEY_VALUES_MISMATCH", "NO_CERTIFICATE_ASSIGNED"):
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
