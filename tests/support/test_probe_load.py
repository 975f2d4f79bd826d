"""Which HTTP errors a restarted edge may give: only those of its first moments."""

from __future__ import annotations

from tests.support.probe_load import http_errors_but_a_new_edges_first
from tools.probe import ProbeOptions, ProbeResult
from tools.probe.result import Sample

REFUSED = "connection refused"


def run(*samples: tuple[float, str | None]) -> ProbeResult:
    return ProbeResult(
        ProbeOptions(url="http://127.0.0.1/"),
        1_700_000_000.0,
        10.0,
        [Sample(t, 1.0, failure, None if failure else "real") for t, failure in samples],
    )


def test_a_502_in_the_new_edges_first_moments_is_not_counted():
    result = run((1.0, None), (2.0, REFUSED), (2.5, REFUSED), (3.0, "HTTP 502"), (3.1, None), (5.0, None))
    assert http_errors_but_a_new_edges_first(result, 2.0) == []


def test_an_error_the_new_edge_gives_later_is():
    result = run((2.0, REFUSED), (3.0, None), (3.5, "HTTP 502"), (4.2, "HTTP 504"))
    assert http_errors_but_a_new_edges_first(result, 2.0) == [(4.2, "HTTP 504")]


def test_an_error_before_the_kill_is_and_a_reset_in_flight_is_not():
    result = run((1.0, "HTTP 502"), (1.9, "connection reset"), (2.0, REFUSED), (9.0, None))
    assert http_errors_but_a_new_edges_first(result, 2.0) == [(1.0, "HTTP 502")]
    assert http_errors_but_a_new_edges_first(run((2.0, REFUSED)), 2.0) == []
