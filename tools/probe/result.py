"""The measurements of one probe run and the views tests and reports take of them."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from .classify import failure_order, pool_order
from .options import ProbeOptions

PERCENTILES = (50.0, 95.0, 99.0)
# A 7 s run stops a few ms late; samples sent in that overshoot are folded into
# the last second instead of making an eighth, near-empty one.
BUCKET_SLACK_S = 0.05


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # seconds from the probe's start to when the request was sent
    latency_ms: float
    failure: str | None  # failure kind; None for a success
    pool: str | None  # pool that answered a success; None for a failure


@dataclass(frozen=True)
class Second:
    """Requests sent during second [t, t+1) of the run."""

    t: int
    sent: int
    ok: int
    failed: int
    pools: dict[str, int]
    failures: dict[str, int]


@dataclass(frozen=True)
class ProbeResult:
    options: ProbeOptions
    started_at: float  # epoch seconds
    duration_s: float
    samples: list[Sample] = field(repr=False)

    @property
    def sent(self) -> int:
        return len(self.samples)

    @property
    def ok(self) -> int:
        return self.sent - self.failed

    @property
    def failed(self) -> int:
        return sum(1 for s in self.samples if s.failure is not None)

    @property
    def failures_by_kind(self) -> dict[str, int]:
        return _ordered(Counter(s.failure for s in self.samples if s.failure is not None), failure_order)

    @property
    def by_pool(self) -> dict[str, int]:
        """Successful responses per pool; failures are counted by kind instead."""
        return _ordered(Counter(s.pool for s in self.samples if s.pool is not None), pool_order)

    def latency_ms(self, p: float) -> float | None:
        """Nearest-rank percentile p (0-100] of successful requests' latency; None without any."""
        return nearest_rank(self._ok_latencies, p)

    @property
    def percentiles(self) -> dict[str, float | None]:
        values = {f"p{p:g}": self.latency_ms(p) for p in PERCENTILES}
        return {**values, "max": self.latency_ms(100)}

    @cached_property
    def timeline(self) -> list[Second]:
        # Every second of the run gets a row, empty ones too: a gap is a finding.
        seconds = max(1, math.ceil(self.duration_s - BUCKET_SLACK_S))
        pools = [Counter[str]() for _ in range(seconds)]
        failures = [Counter[str]() for _ in range(seconds)]
        for s in self.samples:
            i = min(int(s.t), seconds - 1)
            if s.pool is not None:
                pools[i][s.pool] += 1
            if s.failure is not None:
                failures[i][s.failure] += 1
        return [
            Second(
                t=i,
                sent=pools[i].total() + failures[i].total(),
                ok=pools[i].total(),
                failed=failures[i].total(),
                pools=_ordered(pools[i], pool_order),
                failures=_ordered(failures[i], failure_order),
            )
            for i in range(seconds)
        ]

    @property
    def failures(self) -> list[tuple[float, str]]:
        """(seconds from start, kind) of every failure, in time order."""
        return sorted((s.t, s.failure) for s in self.samples if s.failure is not None)

    @property
    def failure_span_s(self) -> float:
        """Seconds from the first failure to the last (how long clients met failures); 0 without any."""
        failures = self.failures
        return failures[-1][0] - failures[0][0] if failures else 0.0

    def window(self, start_s: float, end_s: float) -> ProbeResult:
        """The requests sent in [start_s, end_s), with times counted from start_s."""
        start_s, end_s = max(0.0, start_s), min(self.duration_s, end_s)
        if end_s <= start_s:
            raise ValueError(f"window [{start_s:g}, {end_s:g}) is empty within a {self.duration_s:.3f} s run")
        samples = [
            Sample(s.t - start_s, s.latency_ms, s.failure, s.pool) for s in self.samples if start_s <= s.t < end_s
        ]
        return ProbeResult(self.options, self.started_at + start_s, end_s - start_s, samples)

    def last(self, seconds: float) -> ProbeResult:
        """The requests sent in the run's final `seconds`."""
        return self.window(self.duration_s - seconds, self.duration_s)

    def to_dict(self, failure_limit: int = 1000) -> dict[str, Any]:
        failures = self.failures
        return {
            "options": asdict(self.options),
            "started_at": datetime.fromtimestamp(self.started_at, UTC).isoformat(),
            "duration_s": round(self.duration_s, 3),
            "totals": {"sent": self.sent, "ok": self.ok, "failed": self.failed},
            "failures_by_kind": self.failures_by_kind,
            "latency_ms": {k: None if v is None else round(v, 3) for k, v in self.percentiles.items()},
            "by_pool": self.by_pool,
            "timeline": [asdict(second) for second in self.timeline],
            "failures": [{"t": round(t, 3), "kind": kind} for t, kind in failures[:failure_limit]],
            "failures_truncated": len(failures) > failure_limit,
        }

    @cached_property
    def _ok_latencies(self) -> list[float]:
        return sorted(s.latency_ms for s in self.samples if s.failure is None)


def nearest_rank(ordered: list[float], p: float) -> float | None:
    """Percentile p (0-100] of an ascending list by the nearest-rank method; None if empty."""
    if not 0 < p <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {p:g}")
    return ordered[math.ceil(p / 100 * len(ordered)) - 1] if ordered else None


def _ordered(counts: Counter[str], key: Callable[[str], Any]) -> dict[str, int]:
    return {name: counts[name] for name in sorted(counts, key=key)}
