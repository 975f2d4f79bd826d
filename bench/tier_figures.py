"""The tier-cost measurement without Docker: the paths, the rounds and steps run
across them (interleaved, so a drift of the machine touches every path alike),
and the most requests/s a path sustains before its first errors."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.load_tools import HeyResult, TierLoad, WrkResult, parse_hey, parse_wrk


@dataclass(frozen=True)
class Step:
    connections: int
    result: WrkResult


@dataclass(frozen=True)
class Ceiling:
    best: Step | None
    """The error-free step with the most requests/s, of those before the first step with errors."""
    first_failing: Step | None
    """None: no step had errors."""


def ceiling(steps: Sequence[Step]) -> Ceiling:
    """Steps in the order they ran (connections going up); a step after the first failing one does not count."""
    best: Step | None = None
    for step in steps:
        if step.result.failed:
            return Ceiling(best, step)
        if best is None or step.result.requests_per_s > best.result.requests_per_s:
            best = step
    return Ceiling(best, None)


@dataclass(frozen=True)
class Route:
    key: str
    title: str
    hops: str
    url: str
    from_host: bool = False


Runner = Callable[[list[str]], str]


@dataclass
class RouteFigures:
    route: Route
    latency: list[HeyResult] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    def latency_ms(self, percent: int) -> list[float | None]:
        return [r.percentile_ms(percent) for r in self.latency]

    @property
    def ceiling(self) -> Ceiling:
        return ceiling(self.steps)


def measure(
    routes: Sequence[Route], runners: dict[bool, Runner], load: TierLoad, log: Callable[[str], None]
) -> list[RouteFigures]:
    """Warm-up, latency rounds and throughput steps, every phase interleaved across the routes."""
    figures = [RouteFigures(route) for route in routes]
    for f in figures:
        log(f"warm-up {f.route.key}: {shlex.join(load.hey(f.route.url, load.warmup_s))}")
        runners[f.route.from_host](load.hey(f.route.url, load.warmup_s))
    for n in range(1, load.rounds + 1):
        for f in figures:
            f.latency.append(parse_hey(runners[f.route.from_host](load.hey(f.route.url, load.latency_s))))
            r = f.latency[-1]
            log(
                f"latency {f.route.key} round {n}/{load.rounds}: {r.requests_per_s:.1f} req/s,"
                f" p50 {ms(r.percentile_ms(50))} p90 {ms(r.percentile_ms(90))} p99 {ms(r.percentile_ms(99))} ms,"
                f" failed {r.failed}"
            )
    for connections in load.connections:
        for f in figures:
            if f.steps and f.steps[-1].result.failed:
                continue  # errors began: this path's ceiling is known
            f.steps.append(Step(connections, parse_wrk(runners[f.route.from_host](load.wrk(f.route.url, connections)))))
            step = f.steps[-1].result
            log(
                f"throughput {f.route.key} c={connections}: {step.requests_per_s:,.0f} req/s,"
                f" p99 {ms(step.percentile_ms(99))} ms, failed {step.failed}"
            )
    return figures


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"
