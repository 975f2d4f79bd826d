"""The public key a certificate is for: its algorithm, and its size or curve.

Read from the certificate's DER (its subjectPublicKeyInfo), because the standard
library's ssl module loads a certificate and key but never says what they are,
and the program needs nothing beyond it to deploy.
"""

from __future__ import annotations

from dataclasses import dataclass

ALGORITHMS = {
    "1.2.840.113549.1.1.1": "RSA",
    "1.2.840.113549.1.1.10": "RSA-PSS",
    "1.2.840.10045.2.1": "EC",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
    "1.2.840.10040.4.1": "DSA",
}
CURVES = {
    "1.2.840.10045.3.1.7": "P-256",
    "1.3.132.0.34": "P-384",
    "1.3.132.0.35": "P-521",
}

VERSION = 0xA0  # [0] EXPLICIT, present in every v2 and v3 certificate
OID = 0x06
# An EC key's parameters are its curve's OID, or else the curve itself.
EXPLICIT_CURVE = "a curve given by its parameters"


@dataclass(frozen=True)
class PublicKey:
    algorithm: str
    """A name of ALGORITHMS, or the algorithm's dotted OID."""
    rsa_bits: int | None = None
    curve: str | None = None
    """An EC key's curve: a name of CURVES, its dotted OID, or EXPLICIT_CURVE."""

    def __str__(self) -> str:
        if self.rsa_bits is not None:
            return f"a {self.rsa_bits}-bit {self.algorithm} key"
        if self.curve is not None:
            named = self.curve in (*CURVES.values(), EXPLICIT_CURVE)
            curve = self.curve if named else f"the curve of OID {self.curve}"
            return f"an {self.algorithm} key on {curve}"
        if self.algorithm not in ALGORITHMS.values():
            return f"a key of the algorithm of OID {self.algorithm}"
        return f"{'an' if self.algorithm.startswith('E') else 'a'} {self.algorithm} key"


def public_key(certificate_der: bytes) -> PublicKey:
    """The key ``certificate_der`` certifies.

    Raises ValueError when the key is not DER: OpenSSL parses a certificate
    without decoding its key, so a certificate it has parsed may still hold one.
    """
    try:
        return _public_key(certificate_der)
    except (IndexError, ValueError):
        raise ValueError("the certificate's key is not DER") from None


def _public_key(der: bytes) -> PublicKey:
    (tbs, *_) = _children(der, *_value(der, 0))
    fields = _children(der, tbs[1], tbs[2])
    if fields[0][0] == VERSION:
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject, then subjectPublicKeyInfo.
    _, start, end = fields[5]
    algorithm_id, key_bits = _children(der, start, end)
    oid, *parameters = _children(der, algorithm_id[1], algorithm_id[2])
    name = ALGORITHMS.get(algorithm := _oid(der[oid[1] : oid[2]]), algorithm)
    if name in ("RSA", "RSA-PSS"):
        # The BIT STRING's first byte counts its unused bits (0); then RSAPublicKey: modulus, exponent.
        key = der[key_bits[1] + 1 : key_bits[2]]
        modulus, _ = _children(key, *_value(key, 0))
        return PublicKey(name, rsa_bits=int.from_bytes(key[modulus[1] : modulus[2]], "big").bit_length())
    if name == "EC":
        tag, start, end = parameters[0]
        curve = _oid(der[start:end]) if tag == OID else EXPLICIT_CURVE
        return PublicKey(name, curve=CURVES.get(curve, curve))
    return PublicKey(name)


def _value(der: bytes, offset: int) -> tuple[int, int]:
    """Where the value of the DER element at ``offset`` starts and ends."""
    length = der[offset + 1]
    start = offset + 2
    if length & 0x80:
        size = length & 0x7F
        length = int.from_bytes(der[start : start + size], "big")
        start += size
    return start, start + length


def _children(der: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """(tag, value start, value end) of each DER element from ``start`` to ``end``."""
    found = []
    while start < end:
        value_start, value_end = _value(der, start)
        if value_end > end:
            raise IndexError("a DER element runs past its parent")
        found.append((der[start], value_start, value_end))
        start = value_end
    return found


def _oid(body: bytes) -> str:
    arcs: list[int] = []
    arc = 0
    for byte in body:
        arc = arc << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, [first, arcs[0] - 40 * first, *arcs[1:]]))
