"""PNG timeline of a probe run: answers per second by pool, failures in red."""

from __future__ import annotations

from itertools import cycle

from .result import ProbeResult

INSTALL_HINT = "--chart needs matplotlib; install it with: pip install matplotlib"
POOL_COLOURS = {"real": "#2e7d32", "backup": "#f9a825", "unknown": "#9e9e9e"}
OTHER_COLOURS = ("#1565c0", "#6a1b9a", "#00838f", "#5d4037")
FAILURE_COLOUR = "#d32f2f"


class ChartUnavailable(RuntimeError):
    pass


def require_matplotlib() -> None:
    """Raises ChartUnavailable before a run whose chart could not be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ChartUnavailable(INSTALL_HINT) from exc


def write_chart(result: ProbeResult, path: str) -> None:
    require_matplotlib()
    # Figure without pyplot: no GUI backend, no global state shared with other threads.
    from matplotlib.figure import Figure

    timeline = result.timeline
    seconds = [s.t for s in timeline]
    figure = Figure(figsize=(10, 4.5), layout="constrained")
    axes = figure.add_subplot()
    bottom = [0] * len(timeline)
    others = cycle(OTHER_COLOURS)
    for pool in result.by_pool:
        counts = [s.pools.get(pool, 0) for s in timeline]
        colour = POOL_COLOURS.get(pool) or next(others)
        axes.bar(seconds, counts, width=1.0, align="edge", bottom=bottom, color=colour, label=pool)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    failed = [s.failed for s in timeline]
    axes.bar(seconds, failed, width=1.0, align="edge", bottom=bottom, color=FAILURE_COLOUR, label="failed")
    # A handful of failures among hundreds of answers is too thin a bar to see, so
    # every second with a failure also gets a marker, in headroom above the bars.
    axes.set_ylim(0, max(max(s.sent for s in timeline), 1) * 1.15)
    failing = [s.t + 0.5 for s in timeline if s.failed]
    axes.scatter(
        failing,
        [0.96] * len(failing),
        transform=axes.get_xaxis_transform(),
        marker="v",
        color=FAILURE_COLOUR,
        clip_on=False,
        label="second with failures",
    )
    axes.set_xlim(0, len(timeline))
    axes.set_xlabel("seconds since start")
    axes.set_ylabel("requests per second")
    axes.set_title(
        f"{result.options.method} {result.options.url}: sent {result.sent}, ok {result.ok}, failed {result.failed}"
    )
    figure.legend(loc="outside right upper", fontsize="small")
    figure.savefig(path, dpi=100)
