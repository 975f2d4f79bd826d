"""The tier-cost measurement without Docker: the paths, the rounds and steps run
across them (interleaved, so a drift of the machine touches every path alike),
the most requests/s a path sustains before its first errors, and what a path
adds to another, round by round (a figure of one round alone moves with the
shared machine: the same path kept 0.46x of the straight rate one day and
0.81x another)."""

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
    rounds: list[list[Step]] = field(default_factory=list)
    """The throughput steps of each round, in the order they ran."""

    def latency_ms(self, percent: int) -> list[float | None]:
        return [r.percentile_ms(percent) for r in self.latency]

    @property
    def ceilings(self) -> list[Ceiling]:
        """One a round."""
        return [ceiling(steps) for steps in self.rounds]

    def best_rates(self) -> list[float | None]:
        return [c.best.result.requests_per_s if c.best else None for c in self.ceilings]


def added_ms(path: RouteFigures, base: RouteFigures, percent: int) -> list[float]:
    """The path's latency minus the base's, round by round (the same round ran both within seconds)."""
    pairs = zip(path.latency_ms(percent), base.latency_ms(percent), strict=False)
    return [mine - theirs for mine, theirs in pairs if mine is not None and theirs is not None]


def rate_ratios(path: RouteFigures, base: RouteFigures) -> list[float]:
    """The path's ceiling over the base's, round by round."""
    pairs = zip(path.best_rates(), base.best_rates(), strict=False)
    return [mine / theirs for mine, theirs in pairs if mine is not None and theirs]


def measure(
    routes: Sequence[Route], runners: dict[bool, Runner], load: TierLoad, log: Callable[[str], None]
) -> list[RouteFigures]:
    """Warm-up, latency rounds and rounds of throughput steps, every phase interleaved across the routes."""
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
    for n in range(1, load.ceiling_rounds + 1):
        for f in figures:
            f.rounds.append([])
        for connections in load.connections:
            for f in figures:
                steps = f.rounds[-1]
                if steps and steps[-1].result.failed:
                    continue  # errors began: this path's ceiling in this round is known
                steps.append(
                    Step(connections, parse_wrk(runners[f.route.from_host](load.wrk(f.route.url, connections))))
                )
                step = steps[-1].result
                log(
                    f"throughput {f.route.key} round {n}/{load.ceiling_rounds} c={connections}:"
                    f" {step.requests_per_s:,.0f} req/s, p99 {ms(step.percentile_ms(99))} ms, failed {step.failed}"
                )
    return figures


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"
