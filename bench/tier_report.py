"""The tier-cost part of `make bench`'s report: the paths side by side, in Markdown."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import median

from bench.load_tools import TierLoad, WrkResult
from bench.report import Machine
from bench.setups import APP_REPO, NGINX_IMAGE, REPLICAS
from bench.tier_figures import Ceiling, RouteFigures, Step, added_ms, ms, rate_ratios

PERCENTILES = (50, 90, 99)
BASELINE = "app"  # what "added" is measured against
COMPARED = ("tier", "l7", "plain")  # same starting place as the baseline


@dataclass(frozen=True)
class TierCostReport:
    figures: Sequence[RouteFigures]
    load: TierLoad
    keepalive: dict[str, dict[str, str]]
    overrides: dict[str, object]
    machine: Machine
    date: str
    command: str
    elapsed_s: float
    load_generator: str

    def markdown(self) -> str:
        return "\n".join(
            [
                "# What the edge and the L7 tier cost: added latency and most requests/s before errors",
                "",
                f"- Machine: {self.machine}",
                f"- Date: {self.date}",
                f"- Command: `{self.command}`",
                f"- Time for this part: {self.elapsed_s / 60:.1f} min (deploy and teardown included)",
                f"- Stack: {self._stack()}",
                f"- Load generator: {self.load_generator}",
                f"- Upstream keepalive: {self._keepalive()}",
                "",
                "## Paths",
                "",
                *(f"- **{f.route.title}** ({f.route.key}): {f.route.hops}; `{f.route.url}`" for f in self.figures),
                "",
                "## Latency at a fixed load",
                "",
                f"`{shlex.join(self.load.hey('URL', self.load.latency_s))}`: {self.load.workers} workers with a"
                f" keep-alive connection each, {self.load.rate_per_worker:g} requests/s each"
                f" ({self.load.rate:g} requests/s in all), `GET /`; after a {self.load.warmup_s} s warm-up per path,"
                f" {self.load.rounds} round{'s' if self.load.rounds != 1 else ''} interleaved across the paths. Median over the rounds, (min–max) when"
                " they differ. hey prints latencies to 0.1 ms.",
                "",
                *self._latency_table(),
                "",
                "## Most requests/s before errors",
                "",
                f"`{shlex.join(self.load.wrk('URL', 'N'))}` (closed loop: each connection sends"
                " its next request when the answer is in), N ="
                f" {', '.join(map(str, self.load.connections))}, interleaved across the paths, in"
                f" {self.load.ceiling_rounds} rounds; in each round a path stops at its first step with errors"
                " (answers of 400 and above, or socket errors: connect, read, write, timeout"
                f" = no answer within {self.load.wrk_timeout_s} s).",
                "",
                *self._ceiling_table(),
                "",
                "Every step (requests/s, round by round; errors in brackets):",
                "",
                *self._steps_table(),
                "",
                "## How to read this",
                "",
                self._reading(),
                "",
            ]
        )

    def _stack(self) -> str:
        shown = ", ".join(f"{k} {v}" for k, v in self.overrides.items())
        return (
            f"the `dev` stack deployed once by the test applier as in setup (c), overriding {shown}:"
            f" the edge (1 task), the L7 tier (2 tasks, dnsrr), the real pool ({REPLICAS} tasks) and the"
            f" backup pool ({REPLICAS} tasks, idle); images {APP_REPO}:v1 and {NGINX_IMAGE}."
        )

    def _keepalive(self) -> str:
        return (
            "; ".join(
                f"{hop} (`upstream {name}`): {kept}"
                for hop, upstreams in self.keepalive.items()
                for name, kept in upstreams.items()
            )
            + "."
        )

    def _of(self, key: str) -> RouteFigures | None:
        return next((f for f in self.figures if f.route.key == key), None)

    def _latency_table(self) -> list[str]:
        rows = [
            "| path | hops | requests/s | p50 ms | p90 ms | p99 ms | failed |"
            f" added p50 vs {BASELINE}, ms: median of the rounds (min–max) | added p90 / p99, ms (medians) |",
            "|---|---|--:|--:|--:|--:|--:|--:|--:|",
        ]
        base = self._of(BASELINE)
        for f in self.figures:
            added, tail = "–", "–"
            if base is not None and f.route.key in COMPARED:
                added = _spread(added_ms(f, base, 50), _signed)
                tail = " / ".join(_signed(_median(added_ms(f, base, p))) for p in PERCENTILES[1:])
            elif f.route.key == BASELINE:
                added = tail = "(baseline)"
            rows.append(
                f"| {f.route.title} | {f.route.hops}"
                f" | {_spread([r.requests_per_s for r in f.latency], _rate)}"
                + "".join(f" | {_spread(f.latency_ms(p), ms)}" for p in PERCENTILES)
                + f" | {sum(r.failed for r in f.latency)} | {added} | {tail} |"
            )
        return rows

    def _ceiling_table(self) -> list[str]:
        rows = [
            "| path | most requests/s with 0 errors: median of the rounds (min–max) | at connections, each round"
            f" | errors began at, each round | vs {BASELINE}: median of the rounds (min–max) |",
            "|---|--:|--:|---|--:|",
        ]
        base = self._of(BASELINE)
        for f in self.figures:
            at = " / ".join(str(c.best.connections) if c.best else "–" for c in f.ceilings)
            began = " / ".join(_began(c, steps) for c, steps in zip(f.ceilings, f.rounds, strict=True))
            ratio = _spread(rate_ratios(f, base), _ratio) if base is not None else "–"
            rows.append(
                f"| {f.route.title} | {_spread(f.best_rates(), _rate)} | {at or '–'} | {began or '–'} | {ratio} |"
            )
        return rows

    def _steps_table(self) -> list[str]:
        rows = [
            "| path | " + " | ".join(f"N={n}" for n in self.load.connections) + " |",
            "|---|" + "--:|" * len(self.load.connections),
        ]
        for f in self.figures:
            by_n = [{s.connections: s.result for s in steps} for steps in f.rounds]
            cells = [" / ".join(_step(steps.get(n)) for steps in by_n) or "–" for n in self.load.connections]
            rows.append(f"| {f.route.title} | " + " | ".join(cells) + " |")
        return rows

    def _reading(self) -> str:
        tier, l7, plain, app, host = (self._of(k) for k in ("tier", "l7", "plain", "app", "host"))
        sentences = [
            "The first four paths start in the same container on the overlay with the same tool and load, so"
            " a row's latency minus the straight row's is what its proxies add (the tier row minus the L7 row:"
            " the edge's share; the plain row: what any two nginx hops cost here, their configs doing nothing"
            " but proxying), and the ratio of the ceilings is the share of the straight path's request rate"
            " a path keeps. Both are taken round by round, each round running every path within seconds, and"
            " given as the median of the rounds with the lowest and highest: a change smaller than that spread"
            " is not shown by this run. The added median latency is the steadier figure and comes first; a"
            " ceiling is where this shared machine runs out, and moves with it. The host row starts elsewhere"
            " (the host, through Docker's port mapping) and shows what a client on this machine sees; it is in"
            " no difference."
        ]
        if tier and app:
            added = (
                f"At {self.load.rate:g} requests/s the tier (edge and L7) added"
                f" {_spread(added_ms(tier, app, 50), _signed)} ms at the median"
                f" and {_signed(_median(added_ms(tier, app, 99)))} ms at p99"
            )
            if l7:
                added += (
                    f"; the L7 tier alone {_spread(added_ms(l7, app, 50), _signed)} ms"
                    f" and {_signed(_median(added_ms(l7, app, 99)))} ms"
                )
            sentences.append(added + ".")
            if plain:
                sentences.append(
                    f"Two plain nginx hops added {_spread(added_ms(plain, app, 50), _signed)} ms at the median,"
                    f" so the edge's and the L7 tier's configs added {_spread(added_ms(tier, plain, 50), _signed)}"
                    " ms to what two hops cost (tier minus plain, round by round)."
                )
            if rate_ratios(tier, app):
                sentences.append(
                    f"The most requests/s without an error: {_spread(tier.best_rates(), _rate)} through the tier"
                    f" against {_spread(app.best_rates(), _rate)} straight to one app task"
                    f" ({_spread(rate_ratios(tier, app), _ratio)})."
                )
        if host:
            sentences.append(
                f"From the host through the published port: p50 {ms(_median(host.latency_ms(50)))} ms,"
                f" p99 {ms(_median(host.latency_ms(99)))} ms"
                + (
                    f", at most {_spread(host.best_rates(), _rate)} requests/s without errors."
                    if _known(host.best_rates())
                    else "."
                )
            )
        sentences.append(
            f"Straight sends all {self.load.rate:g} requests/s to one app task, while the tier and the plain hops"
            " spread them over both real tasks, so at the tail the straight path can be the slower one. All of it, the load"
            f" generator included, shares this machine's {self.machine.cores} cores: a ceiling is where the"
            " machine or the path's weakest link runs out, not one component alone, and the ceilings compare how"
            " much each path spends per request. A ceiling is the best step before the first step with errors"
            " ('none up to': even the largest step had none); a rate that falls as connections grow is"
            " contention, not an error."
        )
        return " ".join(sentences)


def _began(c: Ceiling, steps: Sequence[Step]) -> str:
    if c.first_failing is None:
        return f"none up to {steps[-1].connections}" if steps else "–"
    return f"{c.first_failing.connections} ({_errors(c.first_failing.result)})"


def _step(result: WrkResult | None) -> str:
    if result is None:
        return "–"
    return _rate(result.requests_per_s) + (f" ({result.failed:,})" if result.failed else "")


def _known(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return median(known) if known else None


def _spread(values: Sequence[float | None], fmt: Callable[[float | None], str]) -> str:
    """The median, and the lowest and highest when they differ."""
    known = [v for v in values if v is not None]
    if not known:
        return "–"
    low, high, middle = fmt(min(known)), fmt(max(known)), fmt(median(known))
    # A dash between two signed figures reads as a minus.
    between = " to " if fmt is _signed else "–"
    return middle if low == high else f"{middle} ({low}{between}{high})"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f}"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}x"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _errors(result: WrkResult) -> str:
    kinds = [f"non-2xx/3xx {result.non_2xx:,}"] if result.non_2xx else []
    kinds += [f"{kind} {n:,}" for kind, n in result.socket_errors.items() if n]
    return ", ".join(kinds)
