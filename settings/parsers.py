"""Parsers for stack config values.

Each parser takes the raw string Pulumi hands the program and either returns a
typed value or raises ``InvalidValue`` with what is allowed; the section
readers turn those into one message per key. Everything that later reaches the nginx
template or a Swarm spec passes through here first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from swarm.values import Duration


class InvalidValue(ValueError):
    """A config value that does not parse; the text says what is allowed."""


_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+)(ns|us|ms|s|m|h)")
SWARM_UNITS = ("ns", "us", "ms", "s", "m", "h")
NGINX_UNITS = ("ms", "s", "m", "h")
# nginx parses resolver valid= and fail_timeout= in whole seconds (ngx_parse_time is_sec).
NGINX_SECOND_UNITS = ("s", "m", "h")


def parse_duration(raw: str, units: Iterable[str] = SWARM_UNITS, positive: bool = False) -> Duration:
    """Parse Go-style durations such as ``10s`` or ``1m30s`` (Swarm's format)."""
    units = tuple(units)
    allowed = f"a {'non-zero ' if positive else ''}duration such as 10s, 500ms or 1m30s (units: {', '.join(units)})"
    text = raw.strip()
    parts = _DURATION_PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text or any(u not in units for _, u in parts):
        raise InvalidValue(f"must be {allowed}")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    if positive and seconds == 0:
        raise InvalidValue(f"must be {allowed}")
    return Duration(text, seconds)


def parse_int(raw: str, minimum: int, maximum: int | None = None) -> int:
    bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
    if not re.fullmatch(r"[+-]?\d+", raw.strip()):
        raise InvalidValue(f"must be a whole number {bound}")
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        raise InvalidValue(f"must be a whole number {bound}")
    return value


def parse_port(raw: str) -> int:
    return parse_int(raw, 1, 65535)


def parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered not in ("true", "false"):
        raise InvalidValue("must be true or false")
    return lowered == "true"


def parse_choice(raw: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    if raw not in choices:
        raise InvalidValue(f"must be one of: {', '.join(choices)}")
    return raw


# Docker's reference grammar (distribution/reference): lowercase path
# components separated by '/', an optional registry host[:port] first.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d+)?"
_REPOSITORY = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"sha256:[a-f0-9]{64}"
_REPOSITORY_RE = re.compile(_REPOSITORY)
_TAG_RE = re.compile(_TAG)
_REFERENCE_RE = re.compile(rf"{_REPOSITORY}(?::{_TAG})?(?:@{_DIGEST})?")


def parse_repository(raw: str) -> str:
    """An image repository without tag or digest: the tag is a key of its own."""
    if _REFERENCE_RE.fullmatch(raw) and not _REPOSITORY_RE.fullmatch(raw):
        raise InvalidValue("must be an image repository without tag or digest (set the tag in imageTag)")
    if not _REPOSITORY_RE.fullmatch(raw) or len(raw) > 255:
        raise InvalidValue(
            "must be an image repository such as windowforsun/test-web or registry.example.com:5000/team/app (lowercase)"
        )
    return raw


def parse_tag(raw: str) -> str:
    if not _TAG_RE.fullmatch(raw):
        raise InvalidValue(
            "must be an image tag: 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
        )
    return raw


def parse_image_reference(raw: str) -> str:
    if not _REFERENCE_RE.fullmatch(raw) or len(raw) > 255:
        raise InvalidValue(
            "must be an image reference such as nginx:1.30-alpine or registry.example.com/nginx@sha256:<64 hex>"
        )
    return raw


def parse_dns_label(raw: str, max_length: int) -> str:
    if not re.fullmatch(r"[a-z]([a-z0-9-]*[a-z0-9])?", raw) or len(raw) > max_length:
        raise InvalidValue(
            f"must be a DNS label: lowercase letters, digits and '-', starting with a letter, at most {max_length} characters"
        )
    return raw


def parse_hostname(raw: str) -> str:
    label = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    if not re.fullmatch(rf"{label}(\.{label})*", raw) or len(raw) > 253:
        raise InvalidValue("must be a host name such as localhost or app.example.com")
    return raw


def parse_url_path(raw: str) -> str:
    """An absolute URL path safe to place in a shell health-check command."""
    if not re.fullmatch(r"/[A-Za-z0-9._~/-]*", raw):
        raise InvalidValue(
            "must be an absolute URL path such as /healthcheck (letters, digits, '/', '.', '_', '~', '-')"
        )
    return raw
