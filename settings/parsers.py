"""Rules for stack config values: what each key accepts, and the parsed value.

Every rule takes the raw string Pulumi hands the program and either returns a
typed value or raises ``InvalidValue`` saying what is allowed; ``allowed`` is
the same text, shown in the table of keys in docs/configuration.md. Only
ASCII is accepted where a digit or a letter is meant (Python's ``\\d`` and ``\\w`` take any
script's), and every number is bounded before it is converted, so no value
can overflow, lose precision or reach the nginx config or a Swarm spec
unchecked.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from swarm_zero_downtime.swarm.values import HOUR, KIB, MILLISECOND, MINUTE, SECOND, ByteSize, Duration, go_duration

T_co = TypeVar("T_co", covariant=True)


class InvalidValue(ValueError):
    """A config value that does not parse; the text says what is allowed."""


class Rule(Protocol[T_co]):
    @property
    def allowed(self) -> str:
        """What the key accepts, as docs/configuration.md and the error messages say it."""
        ...

    def parse(self, raw: str) -> T_co: ...


# An echoed value longer than this is cut: a problem stays one readable line.
SHOWN_MAX = 80


def shown(value: str) -> str:
    """``value`` quoted for a problem line, cut to about SHOWN_MAX characters."""
    text = repr(value)
    return text if len(text) <= SHOWN_MAX else f"{text[: SHOWN_MAX - 3]}... ({len(value)} characters)"


def _reject(rule: Rule[object]) -> InvalidValue:
    return InvalidValue(f"must be {rule.allowed}")


@dataclass(frozen=True)
class Integer:
    minimum: int
    maximum: int

    @property
    def allowed(self) -> str:
        return f"a whole number from {self.minimum} to {self.maximum}"

    def parse(self, raw: str) -> int:
        # Ten digits bound the work int() does (a 5000-digit string would raise).
        text = raw.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,10}", text, re.ASCII):
            raise _reject(self)
        value = int(text)
        if not self.minimum <= value <= self.maximum:
            raise _reject(self)
        return value


PORT = Integer(1, 65535)

_UNIT_NANOS = {"ms": MILLISECOND, "s": SECOND, "m": MINUTE, "h": HOUR}
_DURATION_PART = re.compile(r"([0-9]+)(ms|s|m|h)", re.ASCII)
SWARM_UNITS = ("ms", "s", "m", "h")
NGINX_UNITS = SWARM_UNITS
# nginx parses resolver valid= and fail_timeout= in whole seconds (ngx_parse_time is_sec).
NGINX_SECOND_UNITS = ("s", "m", "h")


@dataclass(frozen=True)
class DurationRule:
    """A Go-style duration such as 10s or 1m30s (Swarm's form), in whole units, within bounds."""

    minimum: int
    maximum: int
    units: tuple[str, ...] = SWARM_UNITS

    @property
    def allowed(self) -> str:
        return (
            f"a duration from {go_duration(self.minimum)} to {go_duration(self.maximum)}"
            f" such as 10s, 500ms or 1m30s (units: {', '.join(self.units)})"
        )

    def parse(self, raw: str) -> Duration:
        text = raw.strip()
        parts = _DURATION_PART.findall(text)
        if not text or "".join(n + u for n, u in parts) != text or any(u not in self.units for _, u in parts):
            raise _reject(self)
        # Any part longer than the maximum's digits is out of range: checked
        # before int() so "1" followed by 400 zeros costs nothing.
        if any(len(n) > len(str(self.maximum)) for n, _ in parts):
            raise _reject(self)
        nanos = sum(int(n) * _UNIT_NANOS[u] for n, u in parts)
        if not self.minimum <= nanos <= self.maximum:
            raise _reject(self)
        return Duration(nanos)


_SIZE_UNIT_BYTES = {"": 1, "k": KIB, "m": KIB**2, "g": KIB**3}


@dataclass(frozen=True)
class SizeRule:
    """A size in nginx's syntax (bytes, or whole k, m or g, 1024-based), within bounds."""

    minimum: int
    maximum: int

    @property
    def allowed(self) -> str:
        return (
            f"a size from {ByteSize(self.minimum).nginx} to {ByteSize(self.maximum).nginx}"
            " such as 1m, 512k or 1048576 (bytes, or units k, m, g: 1024-based)"
        )

    def parse(self, raw: str) -> ByteSize:
        match = re.fullmatch(r"([0-9]{1,15})([kKmMgG]?)", raw.strip(), re.ASCII)
        if match is None:
            raise _reject(self)
        size = int(match[1]) * _SIZE_UNIT_BYTES[match[2].lower()]
        if not self.minimum <= size <= self.maximum:
            raise _reject(self)
        return ByteSize(size)


@dataclass(frozen=True)
class Choice:
    choices: tuple[str, ...]

    @property
    def allowed(self) -> str:
        return f"one of: {', '.join(self.choices)}"

    def parse(self, raw: str) -> str:
        if raw not in self.choices:
            raise _reject(self)
        return raw


class Boolean:
    # The Pulumi CLI reads stack files as YAML 1.2: only true and false are booleans.
    allowed = "true or false"

    def parse(self, raw: str) -> bool:
        if raw not in ("true", "false"):
            raise _reject(self)
        return raw == "true"


@dataclass(frozen=True)
class Pattern:
    """A string that fully matches an ASCII regex and is at most ``max_length`` long."""

    regex: str
    max_length: int
    allowed: str

    def parse(self, raw: str) -> str:
        if len(raw) > self.max_length or not re.fullmatch(self.regex, raw, re.ASCII):
            raise _reject(self)
        return raw


# Docker's reference grammar (distribution/reference). The first component is a
# registry host only when it has a '.' or a ':' or is localhost, as the docker
# CLI splits it (splitDockerDomain); every path component is lowercase.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_HOST_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:localhost(?::[0-9]+)?|{_HOST_LABEL}(?:\.{_HOST_LABEL})+(?::[0-9]+)?|{_HOST_LABEL}:[0-9]+)"
_REPOSITORY = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"sha256:[a-f0-9]{64}"
IMAGE_NAME_MAX = 255

TAG = Pattern(_TAG, 128, "an image tag: 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
# A tag pinned to a digest deploys exactly that image on every node, and is what
# pulumi-docker reads back after a create (no diff on the next preview).
PINNABLE_TAG = Pattern(
    rf"{_TAG}(?:@{_DIGEST})?",
    128 + len("@sha256:") + 64,
    "an image tag (1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'),"
    " optionally pinned to a digest: v2@sha256:<64 hex>",
)
IMAGE_REFERENCE = Pattern(
    rf"{_REPOSITORY}(?::{_TAG})?(?:@{_DIGEST})?",
    IMAGE_NAME_MAX,
    "an image reference such as nginx:1.30-alpine or registry.example.com/nginx@sha256:<64 hex>",
)


class Repository:
    """An image repository without tag or digest: the tag is a key of its own."""

    allowed = "an image repository such as windowforsun/test-web or registry.example.com:5000/team/app (lowercase)"

    def parse(self, raw: str) -> str:
        if len(raw) <= IMAGE_NAME_MAX and re.fullmatch(_REPOSITORY, raw, re.ASCII):
            return raw
        try:
            IMAGE_REFERENCE.parse(raw)
        except InvalidValue:
            raise _reject(self) from None
        raise InvalidValue("must be an image repository without tag or digest (set the tag in imageTag)")


REPOSITORY = Repository()
HOSTNAME = Pattern(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*",
    253,
    "a host name such as localhost or app.example.com",
)
# A Docker node label key (docker node update --label-add KEY=VALUE), or "" for none.
NODE_LABEL = Pattern(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?)?",
    128,
    "empty, or a node label key such as zone or rack (letters, digits, '.', '_', '-')",
)
# Safe in the shell health-check command without quoting.
URL_PATH = Pattern(
    r"/[A-Za-z0-9._~/-]*",
    256,
    "an absolute URL path such as /healthcheck (letters, digits, '/', '.', '_', '~', '-'; at most 256 characters)",
)


def dns_label(max_length: int) -> Pattern:
    return Pattern(
        r"[a-z](?:[a-z0-9-]*[a-z0-9])?",
        max_length,
        f"a DNS label: lowercase letters, digits and '-', starting with a letter, at most {max_length} characters",
    )


class PrivateSubnet:
    """An IPv4 network in the private ranges Docker allocates overlay networks from."""

    allowed = "a private IPv4 network in CIDR form, /16 to /28, such as 10.240.0.0/24 (10/8, 172.16/12 or 192.168/16)"
    _RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

    def parse(self, raw: str) -> str:
        if not re.fullmatch(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}/[0-9]{1,2}", raw, re.ASCII):
            raise _reject(self)
        try:
            network = ipaddress.IPv4Network(raw)
        except ValueError:
            raise InvalidValue(f"must be {self.allowed}; host bits must be zero") from None
        if not (16 <= network.prefixlen <= 28 and any(network.subnet_of(r) for r in self._RANGES)):
            raise _reject(self)
        return str(network)


PRIVATE_SUBNET = PrivateSubnet()

# Swarm refuses secrets over 500 KiB (swarmkit MaxSecretSize); a chain is far smaller.
PEM_MAX = 64 * 1024
_PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<label>[A-Z ]+)-----\r?\n(?P<body>[A-Za-z0-9+/=\r\n]+?)\r?\n?-----END (?P=label)-----",
    re.ASCII,
)


@dataclass(frozen=True)
class Pem:
    """Parsed secret text: kept out of the repr, as a problem or a traceback may show one."""

    text: str = field(repr=False)
    """The blocks as given, without surrounding whitespace."""
    ders: tuple[bytes, ...] = field(repr=False)
    """Each block's decoded bytes, in order."""


@dataclass(frozen=True)
class PemBlocks:
    """PEM text of blocks with the given labels (one, or at least one); '' means not set.

    The value is a secret: problems describe it, never echo it.
    """

    labels: tuple[str, ...]
    single: bool
    allowed: str

    def parse(self, raw: str) -> Pem | None:
        """The blocks, or None when the key is left empty."""
        text = raw.strip()
        if not text:
            return None
        if len(text) > PEM_MAX:
            raise InvalidValue(f"must be at most {PEM_MAX} characters of PEM")
        blocks = list(_PEM_BLOCK.finditer(text))
        # Nothing but blocks and the whitespace between them.
        if not blocks or _PEM_BLOCK.sub("", text).strip():
            raise _reject(self)
        if any(b["label"] not in self.labels for b in blocks) or (self.single and len(blocks) != 1):
            raise _reject(self)
        try:
            ders = tuple(base64.b64decode("".join(b["body"].split()), validate=True) for b in blocks)
        except binascii.Error:
            raise InvalidValue(f"must be {self.allowed}; a block is not valid base64") from None
        return Pem(text, ders)


CERTIFICATE_CHAIN = PemBlocks(
    ("CERTIFICATE",),
    single=False,
    allowed="empty (no TLS), or PEM certificates: the server's first, then its intermediates",
)
PRIVATE_KEY = PemBlocks(
    ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"),
    single=True,
    allowed="empty (no TLS), or one unencrypted PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)",
)
