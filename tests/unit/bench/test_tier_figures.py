"""The most requests/s before errors, and the measurement loop across the paths."""

from __future__ import annotations

import pytest

from bench.load_tools import HeyResult, TierLoad, WrkResult, parse_wrk
from bench.tier_figures import Ceiling, Route, RouteFigures, Step, added_ms, ceiling, measure, rate_ratios
from tests.unit.bench.tool_outputs import HEY_OK, WRK_503, WRK_KILLED, WRK_OK

# --- the most requests/s before errors ----------------------------------------------------


def wrk(rate: float, failed: int = 0) -> WrkResult:
    return WrkResult(
        requests=int(rate * 5),
        duration_s=5.0,
        requests_per_s=rate,
        percentiles_ms={99: 10.0},
        non_2xx=failed,
        socket_errors={},
    )


def steps(*results: WrkResult) -> list[Step]:
    return [Step(8 * 2**i, r) for i, r in enumerate(results)]


def test_ceiling_without_errors_is_the_fastest_step_not_the_last():
    run = steps(wrk(900), wrk(1500), wrk(1400))
    assert ceiling(run) == Ceiling(best=run[1], first_failing=None)


def test_ceiling_stops_at_the_first_step_with_errors():
    run = steps(wrk(900), wrk(1500), wrk(2000, failed=3))
    assert ceiling(run) == Ceiling(best=run[1], first_failing=run[2])


def test_a_clean_step_after_errors_does_not_count():
    run = steps(wrk(900), wrk(1000, failed=1), wrk(5000))
    assert ceiling(run) == Ceiling(best=run[0], first_failing=run[1])


def test_errors_from_the_first_step_leave_no_ceiling():
    run = steps(wrk(900, failed=2), wrk(1000))
    assert ceiling(run) == Ceiling(best=None, first_failing=run[0])
    assert ceiling([]) == Ceiling(best=None, first_failing=None)


def test_socket_errors_count_as_errors():
    run = [Step(8, wrk(900)), Step(16, parse_wrk(WRK_KILLED))]
    assert ceiling(run).first_failing == run[1]


def test_measure_interleaves_the_paths_and_stops_each_at_its_first_step_with_errors():
    calls: list[tuple[bool, str, str]] = []

    def runner(on_host: bool):
        def run(argv: list[str]) -> str:
            url = argv[-1]
            calls.append((on_host, argv[0], url))
            if argv[0] == "hey":
                return HEY_OK
            connections = int(argv[argv.index("-c") + 1])
            return WRK_503 if url == "http://tier/" and connections >= 32 else WRK_OK

        return run

    routes = [Route("tier", "through", "edge", "http://tier/"), Route("host", "host", "edge", "http://host/", True)]
    load = TierLoad(rounds=2, connections=(8, 16, 32, 64), ceiling_rounds=3)
    figures = measure(routes, {False: runner(False), True: runner(True)}, load, lambda message: None)

    assert [len(f.latency) for f in figures] == [2, 2]
    # Every round of steps starts again at the fewest connections.
    assert [[[s.connections for s in steps] for steps in f.rounds] for f in figures] == [
        [[8, 16, 32]] * 3,
        [[8, 16, 32, 64]] * 3,
    ]
    # Equal rates at 8 and 16 connections: the ceiling is reached at the first.
    tier_steps = figures[0].rounds[0]
    assert figures[0].ceilings == [Ceiling(best=tier_steps[0], first_failing=tier_steps[2])] * 3
    # Warm-up, then the rounds, each interleaved; the host route runs on the host.
    hey_urls = [url for _, tool, url in calls if tool == "hey"]
    assert hey_urls == ["http://tier/", "http://host/"] * 3
    wrk_urls = [url for _, tool, url in calls if tool == "wrk"]
    assert wrk_urls[:7] == ["http://tier/", "http://host/"] * 3 + ["http://host/"]
    assert {on_host for on_host, _, url in calls if url == "http://host/"} == {True}
    assert {on_host for on_host, _, url in calls if url == "http://tier/"} == {False}


# --- round by round -------------------------------------------------------------------------


def latency(*p50s: float) -> list[HeyResult]:
    return [HeyResult(10.0, 200.0, {50: p50}, {200: 2000}, {}) for p50 in p50s]


def test_added_latency_is_taken_round_by_round_so_a_drift_common_to_both_paths_cancels():
    # The machine slows down over the run: both paths drift, the difference does not.
    tier = RouteFigures(Route("tier", "t", "h", "u"), latency=latency(2.0, 3.0, 4.1))
    app = RouteFigures(Route("app", "a", "h", "u"), latency=latency(1.0, 2.0, 3.0))
    assert added_ms(tier, app, 50) == pytest.approx([1.0, 1.0, 1.1])
    # A percentile hey could not give (too few answers) leaves that round out.
    app.latency[1] = HeyResult(10.0, 200.0, {}, {200: 2000}, {})
    assert added_ms(tier, app, 50) == pytest.approx([1.0, 1.1])


def test_rate_ratios_pair_each_round_and_skip_a_round_without_a_ceiling():
    tier = RouteFigures(
        Route("tier", "t", "h", "u"), rounds=[steps(wrk(800)), steps(wrk(900, failed=1)), steps(wrk(1200))]
    )
    app = RouteFigures(Route("app", "a", "h", "u"), rounds=[steps(wrk(1600)), steps(wrk(1500)), steps(wrk(1500))])
    assert tier.best_rates() == [800, None, 1200]
    assert rate_ratios(tier, app) == pytest.approx([0.5, 0.8])
