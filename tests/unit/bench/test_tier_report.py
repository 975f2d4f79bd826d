"""The tier-cost report: the paths side by side."""

from __future__ import annotations

from bench.load_tools import HeyResult, TierLoad, parse_hey, parse_wrk
from bench.report import Machine
from bench.tier_figures import Route, RouteFigures, Step
from bench.tier_report import TierCostReport
from tests.unit.bench.test_tier_figures import wrk
from tests.unit.bench.tool_outputs import (
    HEY_503,
    HEY_KILLED,
    HEY_OK,
    HEY_REFUSED,
    WRK_503,
    WRK_KILLED,
    WRK_OK,
    WRK_TIMEOUT,
)

# --- the report -------------------------------------------------------------------------------


def figures_of(key: str, hey: str, *wrk_outputs: str) -> RouteFigures:
    figures = RouteFigures(Route(key, f"path {key}", "hops", f"http://{key}/", key == "host"))
    figures.latency.append(parse_hey(hey))
    figures.rounds.append([Step(8 * 2**i, parse_wrk(text)) for i, text in enumerate(wrk_outputs)])
    return figures


def rounds(key: str, *p50s: float) -> RouteFigures:
    """A path's latency rounds, each with this p50 (and four times it at p99)."""
    figures = RouteFigures(Route(key, key, "hops", f"http://{key}/"))
    figures.latency.extend(HeyResult(10.0, 200.0, {50: p50, 99: p50 * 4}, {200: 2000}, {}) for p50 in p50s)
    return figures


def markdown(
    figures: list[RouteFigures], load: TierLoad, keepalive: dict[str, dict[str, str]], overrides: dict[str, object]
) -> str:
    """The report of these figures, the run's own details the same in every test."""
    return TierCostReport(
        figures=figures,
        load=load,
        keepalive=keepalive,
        overrides=overrides,
        machine=Machine(cores=2, memory_gib=23.5, kernel="6.1", docker="20.10", nginx="1.30.6"),
        date="2026-01-01 00:00 UTC",
        command="venv/bin/python -m bench --parts tier-cost",
        elapsed_s=120.0,
        load_generator="hey and wrk in a container on the overlay",
    ).markdown()


def test_report_puts_the_paths_side_by_side():
    load = TierLoad(rounds=1, connections=(8, 16, 32))
    report = markdown(
        figures=[
            figures_of("tier", HEY_KILLED, WRK_KILLED),
            figures_of("l7", HEY_OK, WRK_OK, WRK_503),
            figures_of("app", HEY_503, WRK_OK, WRK_OK, WRK_OK),
            figures_of("host", HEY_REFUSED, WRK_OK, WRK_TIMEOUT),
        ],
        load=load,
        keepalive={"edge → L7": {"l7-tier": "kept"}, "L7 → app": {"app-server": "none"}},
        overrides={"appName": "szdbench"},
    )
    # "~" for the en dash the report writes where there is no figure.
    lines = report.replace("\N{EN DASH}", "~").splitlines()
    # Latency: l7's p50 of 0.9 ms against app's 0.1 ms; app has no p99 (too few answers).
    assert "| path l7 | hops | 100 | 0.9 | 1.2 | 2.0 | 0 | +0.8 | -1.0 / ~ |" in lines
    assert "| path app | hops | 3,757 | 0.1 | 2.2 | ~ | 20 | (baseline) | (baseline) |" in lines
    assert "| path host | hops | 8,791 | ~ | ~ | ~ | 20 | ~ | ~ |" in lines
    # Ceilings: tier had errors at once, l7 and host at their second step, app none up to its last.
    assert "| path tier | ~ | ~ | 8 (write 41,716) | ~ |" in lines
    assert "| path l7 | 23,327 | 8 | 16 (non-2xx/3xx 22,941) | 1.00x |" in lines
    assert "| path app | 23,327 | 8 | none up to 32 | 1.00x |" in lines
    assert "| path host | 23,327 | 8 | 16 (timeout 4) | 1.00x |" in lines
    assert "| path l7 | 23,327 | 20,864 (22,941) | ~ |" in lines
    assert "edge → L7 (`upstream l7-tier`): kept; L7 → app (`upstream app-server`): none." in report
    assert "`hey -z 10s -c 8 -q 25 -t 5 URL`" in report
    assert "`wrk -t 2 -c N -d 5s --timeout 2s --latency URL`" in report


def test_report_gives_the_added_latency_of_each_round_as_a_median_and_its_spread():
    report = markdown(
        figures=[
            rounds("tier", 2.0, 2.2, 2.4),
            rounds("l7", 1.2, 1.5, 1.8),
            rounds("plain", 1.5, 1.9, 1.8),
            rounds("app", 1.0, 1.3, 1.4),
        ],
        load=TierLoad(rounds=3),
        keepalive={},
        overrides={},
    )
    # Round by round: the tier's p50 minus the straight one's is +1.0, +0.9 and +1.0 ms.
    assert "the tier (edge and L7) added +1.0 (+0.9 to +1.0) ms at the median and +4.0 ms at p99;" in report
    assert "the L7 tier alone +0.2 (+0.2 to +0.4) ms and +0.8 ms." in report
    assert "| tier | hops | 200 | 2.2 (2.0\N{EN DASH}2.4) |" in report
    assert "| +1.0 (+0.9 to +1.0) | ~ / +4.0 |" in report.replace("\N{EN DASH}", "~")
    # The plain hops: plain minus app +0.5, +0.6, +0.4; tier minus plain +0.5, +0.3, +0.6.
    assert "Two plain nginx hops added +0.5 (+0.4 to +0.6) ms at the median," in report
    assert "the edge's and the L7 tier's configs added +0.5 (+0.3 to +0.6) ms to what two hops cost" in report
    assert "| plain | hops | 200 | 1.8 (1.5\N{EN DASH}1.9) |" in report


def test_report_gives_each_rounds_ceiling_and_the_median_of_the_ratios():
    def ceilings(key: str, *rates: float) -> RouteFigures:
        figures = RouteFigures(Route(key, key, "hops", f"http://{key}/"))
        figures.rounds.extend([Step(8, wrk(rate)), Step(16, wrk(rate * 0.9))] for rate in rates)
        return figures

    report = markdown(
        figures=[ceilings("tier", 8000, 13000, 9000), ceilings("app", 17000, 16000, 15000)],
        load=TierLoad(connections=(8, 16), ceiling_rounds=3),
        keepalive={},
        overrides={},
    ).replace("\N{EN DASH}", "~")
    # The ratio is taken within each round (0.47x, 0.81x, 0.60x), not of the medians.
    assert (
        "| tier | 9,000 (8,000~13,000) | 8 / 8 / 8 | none up to 16 / none up to 16 / none up to 16 | 0.60x (0.47x~0.81x) |"
        in report
    )
    assert "| tier | 8,000 / 13,000 / 9,000 | 7,200 / 11,700 / 8,100 |" in report
    assert "in 3 rounds" in report
    assert "(0.60x (0.47x~0.81x))." in report
