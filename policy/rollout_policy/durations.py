"""Durations as a Swarm spec writes them: Go's time.Duration text, read as whole nanoseconds."""

from __future__ import annotations

import re
from decimal import Decimal

_NANOS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign, what Go's Duration.String() writes
    "\u03bcs": 1_000,  # Greek mu, which Go's ParseDuration also takes
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
# Go's time.ParseDuration: numbers with an optional fraction, each followed by a unit.
_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """Nanoseconds in ``text`` ("1m30s", "250ms", "0"); ValueError for anything Go would refuse."""
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    if body[:1] in ("+", "-"):
        body = body[1:]
    if body == "0":
        return 0
    if not body or _PART.sub("", body):
        raise ValueError(f"not a duration: {text!r} (e.g. 30s, 1m30s, 250ms)")
    total = sum(Decimal(number) * _NANOS[unit] for number, unit in _PART.findall(body))
    return sign * int(total)


def describe(nanos: int) -> str:
    """A duration for a message, in seconds ("22s", "1.5s")."""
    return f"{nanos / _NANOS['s']:g}s"
