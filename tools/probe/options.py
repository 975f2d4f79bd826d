"""What a probe run sends, and the checks that reject options it could not honour."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from swarm_zero_downtime.swarm.naming import POOL_PATTERN

# A name of this module's own: strict mypy re-exports no imported name.
DEFAULT_POOL_PATTERN = POOL_PATTERN
DEFAULT_SLOW_SHARE = 0.25
METHODS = ("GET", "POST")
# One thread per worker: more than this starves a small machine of the CPU the
# app under test needs, and measures the probe instead of the deploy.
MAX_CONCURRENCY = 256
MAX_RATE = 10_000.0


def is_positive(value: float) -> bool:
    """A finite number above 0 (NaN and infinity compare their way past a plain `> 0`)."""
    return math.isfinite(value) and value > 0


class OptionError(ValueError):
    """A rejected option; `option` is the field name so the CLI can name its flag."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__(f"{option}: {reason}")
        self.option = option
        self.reason = reason


@dataclass(frozen=True)
class ProbeOptions:
    url: str
    concurrency: int = 4
    rate: float | None = None  # total requests/s across workers; None = back-to-back
    slow_path: str | None = None
    slow_share: float = DEFAULT_SLOW_SHARE  # share of workers sending to slow_path
    method: str = "GET"
    timeout: float = 5.0
    pool_pattern: str = DEFAULT_POOL_PATTERN
    pool_header: str | None = None  # read the pool from this header, not the body
    ca_file: str | None = None  # verify an https:// server against this CA, not the system's

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.url)
        except ValueError as exc:
            raise OptionError("url", f"not a valid URL: {exc}") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OptionError("url", f"must be an http:// or https:// URL with a host, got {self.url!r}")
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise OptionError("concurrency", f"must be from 1 to {MAX_CONCURRENCY}, got {self.concurrency}")
        if self.rate is not None and not (is_positive(self.rate) and self.rate <= MAX_RATE):
            raise OptionError("rate", f"must be a number greater than 0 and at most {MAX_RATE:g}, got {self.rate:g}")
        if self.slow_path is not None and not self.slow_path.startswith("/"):
            raise OptionError("slow_path", f"must start with '/', got {self.slow_path!r}")
        if not 0 < self.slow_share <= 1:
            raise OptionError("slow_share", f"must be in (0, 1], got {self.slow_share:g}")
        if self.method not in METHODS:
            raise OptionError("method", f"must be one of {', '.join(METHODS)}, got {self.method!r}")
        if not is_positive(self.timeout):
            raise OptionError("timeout", f"must be a number greater than 0, got {self.timeout:g}")
        try:
            re.compile(self.pool_pattern)
        except re.error as exc:
            raise OptionError("pool_pattern", f"not a valid regex: {exc}") from exc
        if self.pool_header is not None and not self.pool_header.strip():
            raise OptionError("pool_header", "must be a header name, got an empty string")

    @property
    def slow_url(self) -> str | None:
        """URL with its path and query replaced by slow_path (which may carry its own query)."""
        if self.slow_path is None:
            return None
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, "", "", "")) + self.slow_path

    @property
    def slow_workers(self) -> int:
        # Dedicated workers, rather than a share of requests, keep a slow request in
        # flight at every instant without throttling the fast workers' throughput.
        if self.slow_path is None:
            return 0
        return min(self.concurrency, max(1, round(self.concurrency * self.slow_share)))
