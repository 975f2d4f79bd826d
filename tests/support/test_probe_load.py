"""Which HTTP errors a restarted edge may give: only those of its first moments."""

from __future__ import annotations

from tests.support.probe_load import http_errors_of_a_new_edge
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
    assert http_errors_of_a_new_edge(result, since_s=2.0) == []


def test_an_error_the_new_edge_gives_later_is():
    result = run((2.0, REFUSED), (3.0, None), (3.5, "HTTP 502"), (4.2, "HTTP 504"))
    assert http_errors_of_a_new_edge(result, since_s=2.0) == [(4.2, "HTTP 504")]


def test_only_requests_sent_after_the_kill_count():
    result = run((1.0, "HTTP 502"), (2.0, REFUSED), (9.0, None))
    assert http_errors_of_a_new_edge(result, since_s=2.0) == []
    assert http_errors_of_a_new_edge(run((2.0, REFUSED)), since_s=2.0) == []
