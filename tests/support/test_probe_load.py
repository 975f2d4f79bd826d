"""Which failures a restarted edge may give: none that is an answer."""

from __future__ import annotations

from tests.support.probe_load import http_errors
from tools.probe import ProbeOptions, ProbeResult
from tools.probe.result import Sample


def run(*samples: tuple[float, str | None]) -> ProbeResult:
    return ProbeResult(
        ProbeOptions(url="http://127.0.0.1/"),
        1_700_000_000.0,
        10.0,
        [Sample(t, 1.0, failure, None if failure else "real") for t, failure in samples],
    )


def test_every_http_error_counts_the_new_edges_first_answer_too_and_no_connection_failure_does():
    result = run(
        (1.0, "HTTP 502"),
        (1.9, "connection reset"),
        (2.0, "connection refused"),
        (2.5, "connect timeout"),
        (3.0, "HTTP 502"),
        (3.1, None),
        (4.2, "HTTP 504"),
    )
    assert http_errors(result) == [(1.0, "HTTP 502"), (3.0, "HTTP 502"), (4.2, "HTTP 504")]
