"""The most requests/s before errors, and the measurement loop across the paths."""

from __future__ import annotations

from bench.load_tools import TierLoad, WrkResult, parse_wrk
from bench.tier_figures import Ceiling, Route, Step, ceiling, measure
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
    load = TierLoad(rounds=2, connections=(8, 16, 32, 64))
    figures = measure(routes, {False: runner(False), True: runner(True)}, load, lambda message: None)

    assert [len(f.latency) for f in figures] == [2, 2]
    assert [[s.connections for s in f.steps] for f in figures] == [[8, 16, 32], [8, 16, 32, 64]]
    # Equal rates at 8 and 16 connections: the ceiling is reached at the first.
    assert figures[0].ceiling == Ceiling(best=figures[0].steps[0], first_failing=figures[0].steps[2])
    # Warm-up, then the rounds, each interleaved; the host route runs on the host.
    hey_urls = [url for _, tool, url in calls if tool == "hey"]
    assert hey_urls == ["http://tier/", "http://host/"] * 3
    assert {on_host for on_host, _, url in calls if url == "http://host/"} == {True}
    assert {on_host for on_host, _, url in calls if url == "http://tier/"} == {False}
