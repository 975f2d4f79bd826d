"""Go's duration syntax, both ways, as pulumi-docker parses and prints it.

- ``parse_duration``: Go's ``time.ParseDuration`` for what the provider's
  ``validateDurationGeq0`` accepts (kreuzwerker terraform-provider-docker
  v4.5.0, internal/provider/validators.go, validateDurationGeq0): signed
  decimals with units ns, us, µs, ms, s, m, h; a bare "0".
- ``go_string``: Go's ``time.Duration.String`` (go/src/time/time.go, ``func
  (d Duration) String``): "0s", "500ms", "1.5s", "1m30s", "2h0m0s".
- ``short_dur``: the provider's ``shortDur`` (internal/provider/
  resource_docker_service_structures.go, ``func shortDur``), which every
  read-back of a duration goes through: ``String()`` with a trailing "m0s" and
  then "h0m" cut off, so "2m0s" reads back as "2m" and "1h0m0s" as "1h".
"""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_NANOS = {
    "ns": 1,
    "us": 10**3,
    "µs": 10**3,
    "μs": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}


def parse_duration(text: str) -> int | None:
    """Nanoseconds, or None where Go's ParseDuration returns an error."""
    sign = 1
    body = text
    if body[:1] in "+-" and body:
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body == "0":
        return 0
    parts = _PART.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        return None
    total = 0
    for number, unit in parts:
        whole, _, fraction = number.partition(".")
        nanos = int(whole or "0") * _NANOS[unit]
        if fraction:
            # Go keeps the fraction exact down to the nanosecond (it truncates beyond it).
            nanos += int(fraction) * _NANOS[unit] // 10 ** len(fraction)
        total += nanos
    return sign * total


def parse_duration_or_zero(text: str) -> int:
    """``d, _ := time.ParseDuration(s)``: what the provider does everywhere (an error leaves 0)."""
    parsed = parse_duration(text)
    return 0 if parsed is None else parsed


def _fraction(value: int, precision: int) -> tuple[str, int]:
    """Go's fmtFrac: ``value`` / 10**precision as ".ddd" without trailing zeros, and the integer part."""
    digits = ""
    printed = False
    for _ in range(precision):
        digit = value % 10
        printed = printed or digit != 0
        if printed:
            digits = str(digit) + digits
        value //= 10
    return ("." + digits if printed else ""), value


def go_string(nanos: int) -> str:
    """Go's ``time.Duration.String``."""
    if nanos == 0:
        return "0s"
    negative = nanos < 0
    u = -nanos if negative else nanos
    if u < 10**9:
        # Less than a second: the largest unit that keeps a leading digit.
        if u < 10**3:
            text = f"{u}ns"
        elif u < 10**6:
            frac, whole = _fraction(u, 3)
            text = f"{whole}{frac}µs"
        else:
            frac, whole = _fraction(u, 6)
            text = f"{whole}{frac}ms"
    else:
        frac, seconds = _fraction(u, 9)
        text = f"{seconds % 60}{frac}s"
        minutes = seconds // 60
        if minutes:
            text = f"{minutes % 60}m{text}"
            hours = minutes // 60
            if hours:
                text = f"{hours}h{text}"
    return ("-" if negative else "") + text


def short_dur(nanos: int) -> str:
    """kreuzwerker ``shortDur``: ``String()`` without a trailing "m0s", then without a trailing "h0m"."""
    text = go_string(nanos)
    if text.endswith("m0s"):
        text = text[:-2]
    if text.endswith("h0m"):
        text = text[:-2]
    return text
