"""Human-readable text for a probe run: the live progress line and the final summary."""

from __future__ import annotations

import math

from .load import Progress
from .result import ProbeResult

# Long runs are folded into at most this many rows so the table stays on one screen.
MAX_TIMELINE_ROWS = 30


def format_totals(result: ProbeResult) -> str:
    return f"sent {result.sent}, ok {result.ok}, failed {result.failed}"


def format_progress(progress: Progress) -> str:
    p99 = "-" if progress.p99_ms is None else f"{progress.p99_ms:.1f} ms"
    return (
        f"{progress.elapsed_s:6.1f} s  sent {progress.sent}  failed {progress.failed}"
        f"  p99 {p99} (last {progress.window_s:g} s)"
    )


def format_summary(result: ProbeResult) -> str:
    options = result.options
    load = f"{options.concurrency} workers"
    if options.slow_path is not None:
        load += f" ({options.slow_workers} on {options.slow_path})"
    load += f", {options.rate:g} req/s" if options.rate else ", back-to-back"
    failures = ", ".join(f"{kind} {n}" for kind, n in result.failures_by_kind.items()) or "none"
    latency = ", ".join(f"{name} {_ms(value)}" for name, value in result.percentiles.items())
    pools = ", ".join(f"{pool} {n}" for pool, n in result.by_pool.items()) or "none"
    lines = [
        f"probe {options.method} {options.url}: {result.duration_s:.1f} s, {load}",
        format_totals(result),
        f"failures: {failures}",
        f"latency ms (successful requests): {latency}",
        f"pools: {pools}",
        *_timeline_table(result),
    ]
    return "\n".join(lines)


def _timeline_table(result: ProbeResult) -> list[str]:
    timeline = result.timeline
    size = math.ceil(len(timeline) / MAX_TIMELINE_ROWS)
    pools = list(result.by_pool)
    header = ["second", *pools, "failed"]
    rows = []
    for start in range(0, len(timeline), size):
        bucket = timeline[start : start + size]
        label = str(start) if size == 1 else f"{start}-{start + len(bucket) - 1}"
        counts = [sum(s.pools.get(pool, 0) for s in bucket) for pool in pools]
        rows.append([label, *map(str, counts), str(sum(s.failed for s in bucket))])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    unit = "second" if size == 1 else f"{size} s"
    table = ["  " + "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    return [f"answers per {unit}:", *table]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
