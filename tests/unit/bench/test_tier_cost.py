"""The benchmark's tier-cost part, without Docker: hey's and wrk's output read into
figures, the most requests/s before errors, what the configs say, and the report.

The fixtures are real output of Debian bookworm's hey 0.1.4 and wrk 4.1.0, captured
on the benchmark machine against the test app on loopback (its routes `/`,
`/status/503` and `/1500`; "killed" runs had the app stopped halfway). Tabs are
written as \\t, and hey's line of two spaces after Requests/sec as \\x20\\x20.
"""

from __future__ import annotations

import pytest

from bench.report import Machine
from bench.tier_cost import (
    Ceiling,
    Route,
    RouteFigures,
    Step,
    TierCostReport,
    TierLoad,
    ToolOutputError,
    WrkResult,
    ceiling,
    foreign_libraries,
    measure,
    parse_hey,
    parse_wrk,
    upstream_keepalive,
)
from standins.mock_program import DeclaredProgram
from tools.render_nginx import edge_config, nginx_config

HEY_OK = """\

Summary:
  Total:\t2.0053 secs
  Slowest:\t0.0024 secs
  Fastest:\t0.0002 secs
  Average:\t0.0009 secs
  Requests/sec:\t99.7364
\x20\x20
  Total data:\t10800 bytes
  Size/request:\t54 bytes

Response time histogram:
  0.000 [1]\t|■
  0.000 [1]\t|■
  0.001 [22]\t|■■■■■■■■■■■■
  0.001 [73]\t|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■
  0.001 [63]\t|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■
  0.001 [28]\t|■■■■■■■■■■■■■■■
  0.001 [3]\t|■■
  0.002 [4]\t|■■
  0.002 [3]\t|■■
  0.002 [1]\t|■
  0.002 [1]\t|■


Latency distribution:
  10% in 0.0006 secs
  25% in 0.0007 secs
  50% in 0.0009 secs
  75% in 0.0010 secs
  90% in 0.0012 secs
  95% in 0.0013 secs
  99% in 0.0020 secs

Details (average, fastest, slowest):
  DNS+dialup:\t0.0000 secs, 0.0002 secs, 0.0024 secs
  DNS-lookup:\t0.0000 secs, 0.0000 secs, 0.0000 secs
  req write:\t0.0000 secs, 0.0000 secs, 0.0016 secs
  resp wait:\t0.0008 secs, 0.0001 secs, 0.0017 secs
  resp read:\t0.0000 secs, 0.0000 secs, 0.0002 secs

Status code distribution:
  [200]\t200 responses



"""

HEY_KILLED = """\

Summary:
  Total:\t3.0154 secs
  Slowest:\t0.0397 secs
  Fastest:\t0.0002 secs
  Average:\t0.0029 secs
  Requests/sec:\t193.0090
\x20\x20
  Total data:\t16362 bytes
  Size/request:\t54 bytes

Response time histogram:
  0.000 [1]\t|
  0.004 [269]\t|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■
  0.008 [13]\t|■■
  0.012 [10]\t|■
  0.016 [3]\t|
  0.020 [1]\t|
  0.024 [0]\t|
  0.028 [0]\t|
  0.032 [1]\t|
  0.036 [4]\t|■
  0.040 [1]\t|


Latency distribution:
  10% in 0.0006 secs
  25% in 0.0010 secs
  50% in 0.0017 secs
  75% in 0.0025 secs
  90% in 0.0051 secs
  95% in 0.0093 secs
  99% in 0.0350 secs

Details (average, fastest, slowest):
  DNS+dialup:\t0.0000 secs, 0.0002 secs, 0.0397 secs
  DNS-lookup:\t0.0000 secs, 0.0000 secs, 0.0000 secs
  req write:\t0.0000 secs, 0.0000 secs, 0.0012 secs
  resp wait:\t0.0027 secs, 0.0001 secs, 0.0396 secs
  resp read:\t0.0001 secs, 0.0000 secs, 0.0017 secs

Status code distribution:
  [200]\t303 responses

Error distribution:
  [279]\tGet "http://127.0.0.1:18199/": dial tcp 127.0.0.1:18199: connect: connection refused

"""

HEY_REFUSED = """\

Summary:
  Total:\t0.0023 secs
  Slowest:\t0.0000 secs
  Fastest:\t0.0000 secs
  Average:\t NaN secs
  Requests/sec:\t8791.0426
\x20\x20

Response time histogram:


Latency distribution:

Details (average, fastest, slowest):
  DNS+dialup:\t NaN secs, 0.0000 secs, 0.0000 secs
  DNS-lookup:\t NaN secs, 0.0000 secs, 0.0000 secs
  req write:\t NaN secs, 0.0000 secs, 0.0000 secs
  resp wait:\t NaN secs, 0.0000 secs, 0.0000 secs
  resp read:\t NaN secs, 0.0000 secs, 0.0000 secs

Status code distribution:

Error distribution:
  [20]\tGet "http://127.0.0.1:18198/": dial tcp 127.0.0.1:18198: connect: connection refused

"""

HEY_503 = """\

Summary:
  Total:\t0.0053 secs
  Slowest:\t0.0033 secs
  Fastest:\t0.0001 secs
  Average:\t0.0005 secs
  Requests/sec:\t3757.2169
\x20\x20
  Total data:\t460 bytes
  Size/request:\t23 bytes

Response time histogram:
  0.000 [1]\t|■■■
  0.000 [13]\t|■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■
  0.001 [3]\t|■■■■■■■■■
  0.001 [1]\t|■■■
  0.001 [0]\t|
  0.002 [0]\t|
  0.002 [0]\t|
  0.002 [1]\t|■■■
  0.003 [0]\t|
  0.003 [0]\t|
  0.003 [1]\t|■■■


Latency distribution:
  10% in 0.0001 secs
  25% in 0.0001 secs
  50% in 0.0001 secs
  75% in 0.0005 secs
  90% in 0.0022 secs
  95% in 0.0033 secs
  0% in 0.0000 secs

Details (average, fastest, slowest):
  DNS+dialup:\t0.0001 secs, 0.0001 secs, 0.0033 secs
  DNS-lookup:\t0.0000 secs, 0.0000 secs, 0.0000 secs
  req write:\t0.0000 secs, 0.0000 secs, 0.0001 secs
  resp wait:\t0.0003 secs, 0.0001 secs, 0.0012 secs
  resp read:\t0.0000 secs, 0.0000 secs, 0.0007 secs

Status code distribution:
  [503]\t20 responses



"""

WRK_OK = """\
Running 2s test @ http://127.0.0.1:18199/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    20.87ms   76.25ms 459.86ms   93.01%
    Req/Sec    12.92k     6.64k   26.65k    71.05%
  Latency Distribution
     50%  226.00us
     75%  448.00us
     90%    6.44ms
     99%  408.18ms
  49001 requests in 2.10s, 11.68MB read
Requests/sec:  23326.86
Transfer/sec:      5.56MB
"""

WRK_503 = """\
Running 1s test @ http://127.0.0.1:18199/status/503
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   362.59us    1.51ms  19.83ms   96.22%
    Req/Sec    21.00k     4.59k   26.71k    54.55%
  Latency Distribution
     50%   71.00us
     75%   86.00us
     90%  252.00us
     99%    9.13ms
  22941 requests in 1.10s, 5.16MB read
  Non-2xx or 3xx responses: 22941
Requests/sec:  20863.99
Transfer/sec:      4.70MB
"""

WRK_TIMEOUT = """\
Running 3s test @ http://127.0.0.1:18199/1500
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     3.67      5.51    10.00     66.67%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  4 requests in 3.01s, 0.98KB read
  Socket errors: connect 0, read 0, write 0, timeout 4
Requests/sec:      1.33
Transfer/sec:     332.04B
"""

WRK_KILLED = """\
Running 3s test @ http://127.0.0.1:18199/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.35ms    4.50ms  66.69ms   95.88%
    Req/Sec     6.49k     3.15k   18.33k    78.12%
  Latency Distribution
     50%  367.00us
     75%  719.00us
     90%    1.65ms
     99%   27.11ms
  20718 requests in 3.04s, 4.94MB read
  Socket errors: connect 0, read 0, write 41716, timeout 0
Requests/sec:   6814.23
Transfer/sec:      1.62MB
"""

LDD_WRK = """\
\tlinux-vdso.so.1 (0x00007fc3bb221000)
\tlibluajit-5.1.so.2 => /lib/x86_64-linux-gnu/libluajit-5.1.so.2 (0x00007fc3bb16f000)
\tlibpthread.so.0 => /lib/x86_64-linux-gnu/libpthread.so.0 (0x00007fc3bb16a000)
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007fc3bb08a000)
\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007fc3bafe1000)
\tlibcrypto.so.3 => /lib/x86_64-linux-gnu/libcrypto.so.3 (0x00007fc3baa00000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fc3ba81e000)
\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x00007fc3bafbf000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007fc3bb223000)
"""

LDD_HEY = """\
\tlinux-vdso.so.1 (0x00007f1f95dfb000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f1f95c08000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f1f95dfd000)
"""

WRK_REFUSED = "unable to connect to 127.0.0.1:18198 Connection refused\n"

# --- hey ---------------------------------------------------------------------------------


def test_hey_every_request_answered():
    result = parse_hey(HEY_OK)
    assert (result.duration_s, result.requests_per_s) == (2.0053, 99.7364)
    assert result.percentiles_ms == pytest.approx({10: 0.6, 25: 0.7, 50: 0.9, 75: 1.0, 90: 1.2, 95: 1.3, 99: 2.0})
    assert (result.statuses, result.errors) == ({200: 200}, {})
    assert (result.answered, result.failed) == (200, 0)


def test_hey_answers_and_connection_errors():
    result = parse_hey(HEY_KILLED)
    assert result.statuses == {200: 303}
    assert result.errors == {
        'Get "http://127.0.0.1:18199/": dial tcp 127.0.0.1:18199: connect: connection refused': 279
    }
    assert result.failed == 279
    assert result.percentile_ms(99) == pytest.approx(35.0)


def test_hey_without_any_answer_has_no_latencies():
    result = parse_hey(HEY_REFUSED)
    assert (result.answered, result.failed, result.percentiles_ms) == (0, 20, {})
    assert result.percentile_ms(50) is None


def test_hey_counts_error_statuses_and_skips_the_percentile_it_could_not_fill():
    result = parse_hey(HEY_503)
    assert result.statuses == {503: 20}
    assert result.failed == 20
    # 20 answers are too few for a 99th percentile: hey prints "0% in 0.0000 secs" in its place.
    assert result.percentile_ms(95) == pytest.approx(3.3)
    assert result.percentile_ms(99) is None
    assert 0 not in result.percentiles_ms


@pytest.mark.parametrize("text", ["", WRK_OK, WRK_REFUSED])
def test_hey_rejects_what_is_not_its_summary(text):
    with pytest.raises(ToolOutputError):
        parse_hey(text)


# --- wrk ---------------------------------------------------------------------------------


def test_wrk_clean_run():
    result = parse_wrk(WRK_OK)
    assert (result.requests, result.requests_per_s, result.non_2xx, result.socket_errors) == (49001, 23326.86, 0, {})
    assert result.duration_s == pytest.approx(2.10)
    assert result.percentiles_ms == pytest.approx({50: 0.226, 75: 0.448, 90: 6.44, 99: 408.18})
    assert result.failed == 0


def test_wrk_error_statuses_are_failures():
    result = parse_wrk(WRK_503)
    assert (result.requests, result.non_2xx, result.failed) == (22941, 22941, 22941)
    assert result.percentile_ms(50) == pytest.approx(0.071)


def test_wrk_timeouts_are_failures_and_leave_no_latencies():
    result = parse_wrk(WRK_TIMEOUT)
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 0, "timeout": 4}
    assert result.failed == 4
    assert result.percentiles_ms == {}  # wrk prints 0.00us for each: nothing came back in time
    assert result.requests_per_s == pytest.approx(1.33)


def test_wrk_socket_errors_of_a_server_that_went_away():
    result = parse_wrk(WRK_KILLED)
    assert result.socket_errors == {"connect": 0, "read": 0, "write": 41716, "timeout": 0}
    assert (result.non_2xx, result.failed) == (0, 41716)
    assert result.percentile_ms(99) == pytest.approx(27.11)
    assert result.duration_s == pytest.approx(3.04)


@pytest.mark.parametrize("text", ["", HEY_OK, WRK_REFUSED])
def test_wrk_rejects_what_is_not_its_report(text):
    with pytest.raises(ToolOutputError):
        parse_wrk(text)


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


# --- the load and the measurement loop ----------------------------------------------------


def test_load_commands():
    load = TierLoad()
    assert load.rate == 200
    assert load.hey("http://x/", 10) == ["hey", "-z", "10s", "-c", "8", "-q", "25", "-t", "5", "http://x/"]
    assert load.wrk("http://x/", 64) == [
        "wrk",
        "-t",
        "2",
        "-c",
        "64",
        "-d",
        "5s",
        "--timeout",
        "2s",
        "--latency",
        "http://x/",
    ]
    assert load.wrk("http://x/", 1)[:3] == ["wrk", "-t", "1"]  # wrk needs at least one connection per thread


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


# --- the configs and the host ---------------------------------------------------------------


def test_neither_hop_of_the_dev_stack_keeps_upstream_connections(dev: DeclaredProgram):
    assert upstream_keepalive(edge_config(dev)) == {"l7-tier": False}
    assert upstream_keepalive(nginx_config(dev)) == {"app-server": False}


def test_keepalive_is_read_per_upstream_and_comments_do_not_count():
    config = """
upstream a {
    server x:80;
    keepalive 16;
}
upstream b {
    server y:80;
    # keepalive 8;
}
server {
    keepalive_timeout 5s;
}
"""
    assert upstream_keepalive(config) == {"a": True, "b": False}


def test_libraries_to_mount_are_those_besides_glibc():
    assert foreign_libraries(LDD_WRK) == [
        "/lib/x86_64-linux-gnu/libluajit-5.1.so.2",
        "/lib/x86_64-linux-gnu/libssl.so.3",
        "/lib/x86_64-linux-gnu/libcrypto.so.3",
    ]
    assert foreign_libraries(LDD_HEY) == []
    assert foreign_libraries("\tnot a dynamic executable\n") == []


# --- the report -------------------------------------------------------------------------------


def figures_of(key: str, hey: str, *wrk_outputs: str) -> RouteFigures:
    figures = RouteFigures(Route(key, f"path {key}", "hops", f"http://{key}/", key == "host"))
    figures.latency.append(parse_hey(hey))
    figures.steps.extend(Step(8 * 2**i, parse_wrk(text)) for i, text in enumerate(wrk_outputs))
    return figures


def test_report_puts_the_paths_side_by_side():
    load = TierLoad(rounds=1, connections=(8, 16, 32))
    report = TierCostReport(
        figures=[
            figures_of("tier", HEY_KILLED, WRK_KILLED),
            figures_of("l7", HEY_OK, WRK_OK, WRK_503),
            figures_of("app", HEY_503, WRK_OK, WRK_OK, WRK_OK),
            figures_of("host", HEY_REFUSED, WRK_OK, WRK_TIMEOUT),
        ],
        load=load,
        keepalive={"edge → L7": {"l7-tier": False}, "L7 → app": {"app-server": False}},
        overrides={"appName": "szdbench"},
        machine=Machine(cores=2, memory_gib=23.5, kernel="6.1", docker="20.10", nginx="1.30.6"),
        date="2026-01-01 00:00 UTC",
        command="venv/bin/python -m bench --parts tier-cost",
        elapsed_s=120.0,
    ).markdown()
    # "~" for the en dash the report writes where there is no figure.
    lines = report.replace("\N{EN DASH}", "~").splitlines()
    # Latency: l7's p50 of 0.9 ms against app's 0.1 ms; app has no p99 (too few answers).
    assert "| path l7 | hops | 100 | 0.9 | 1.2 | 2.0 | 0 | +0.8 / -1.0 / ~ |" in lines
    assert "| path app | hops | 3,757 | 0.1 | 2.2 | ~ | 20 | (baseline) |" in lines
    assert "| path host | hops | 8,791 | ~ | ~ | ~ | 20 | ~ |" in lines
    # Ceilings: tier had errors at once, l7 and host at their second step, app none up to its last.
    assert "| path tier | ~ | ~ | ~ | 8 connections (write 41,716) | ~ |" in lines
    assert "| path l7 | 23,327 | 8 | 408.2 | 16 connections (non-2xx/3xx 22,941) | 1.00x |" in lines
    assert "| path app | 23,327 | 8 | 408.2 | none up to 32 connections | 1.00x |" in lines
    assert "| path host | 23,327 | 8 | 408.2 | 16 connections (timeout 4) | 1.00x |" in lines
    assert "| path l7 | 23,327 | 20,864 (22,941) | ~ |" in lines
    assert "edge → L7 (`upstream l7-tier`): no; L7 → app (`upstream app-server`): no." in report
    assert "`hey -z 10s -c 8 -q 25 -t 5 URL`" in report
    assert "`wrk -t 2 -c N -d 5s --timeout 2s --latency URL`" in report
