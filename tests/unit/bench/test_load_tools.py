"""hey's and wrk's reports read into figures, their command lines, the libraries to mount."""

from __future__ import annotations

import pytest

from bench.load_tools import TierLoad, ToolOutputError, foreign_libraries, parse_hey, parse_wrk
from tests.unit.bench.tool_outputs import (
    HEY_503,
    HEY_KILLED,
    HEY_OK,
    HEY_REFUSED,
    LDD_HEY,
    LDD_WRK,
    WRK_503,
    WRK_KILLED,
    WRK_OK,
    WRK_REFUSED,
    WRK_TIMEOUT,
)

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


def test_libraries_to_mount_are_those_besides_glibc():
    assert foreign_libraries(LDD_WRK) == [
        "/lib/x86_64-linux-gnu/libluajit-5.1.so.2",
        "/lib/x86_64-linux-gnu/libssl.so.3",
        "/lib/x86_64-linux-gnu/libcrypto.so.3",
    ]
    assert foreign_libraries(LDD_HEY) == []
    assert foreign_libraries("\tnot a dynamic executable\n") == []
