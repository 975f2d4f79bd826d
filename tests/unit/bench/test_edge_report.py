"""The edge-changes part of the benchmark: the port change's gap, and the report's rows."""

from __future__ import annotations

import pytest

from bench.edge_changes import CHANGES, EdgeFigures, port_gap_s
from bench.edge_report import EdgeReport
from bench.measure import LoadPlan
from bench.report import Machine
from tools.probe import ProbeOptions, ProbeResult
from tools.probe.result import Sample

STARTED = 1_700_000_000.0
DASH = "\u2013"  # the report's en dash


def result(started_at: float, *samples: tuple[float, str | None]) -> ProbeResult:
    options = ProbeOptions(url="http://127.0.0.1/")
    return ProbeResult(options, started_at, 10.0, [Sample(t, 1.0, failure, None) for t, failure in samples])


def test_a_port_change_gap_runs_from_the_old_ports_last_answer_to_the_new_ports_first():
    old = result(STARTED, (1.0, None), (2.0, None), (2.5, "connection refused"), (3.0, "connection refused"))
    # The second probe started later: its times count from its own start.
    new = result(STARTED + 0.5, (1.0, "connection refused"), (2.8, None), (3.0, None))
    assert port_gap_s(old, new) == pytest.approx(1.3)


def figures(setup: str, change: str, run: int, failed: int | None, gap_s: float) -> EdgeFigures:
    return EdgeFigures(setup, change, run, 600, failed, {"connection refused": failed or 0}, gap_s, 10.0)


def markdown(*runs: EdgeFigures) -> str:
    return EdgeReport(
        figures=runs,
        titles={"a": "tutorial as written", "c": "project defaults (dev stack)"},
        plan=LoadPlan(rate=40.0),
        port=18090,
        new_port=18091,
        machine=Machine(cores=2, memory_gib=23.5, kernel="6.1", docker="20.10", nginx="1.30.6"),
        date="2026-12-07 03:30 UTC",
        command="make bench",
        elapsed_s=240.0,
    ).markdown()


def row(report: str, change_title: str, setup: str) -> str:
    return next(line for line in report.splitlines() if line.startswith(f"| {change_title} | ({setup}) "))


def test_each_change_has_a_row_for_each_setup_side_by_side():
    runs = [figures("c", change.key, 1, 10, 0.5) for change in CHANGES]
    report = markdown(*runs, figures("a", "image", 1, 50, 1.2), figures("a", "port", 1, None, 1.1))
    for change in CHANGES:
        assert row(report, change.title, "c")
        assert row(report, change.title, "a")


def test_the_tutorial_has_no_tls_and_says_so():
    report = markdown(figures("a", "image", 1, 50, 1.2))
    tls_on = next(c for c in CHANGES if c.key == "tls-on")
    assert "no such change in the tutorial" in row(report, tls_on.title, "a")


def test_medians_with_their_range_and_no_failed_count_for_a_port_change():
    image, port = (next(c for c in CHANGES if c.key == key) for key in ("image", "port"))
    report = markdown(
        *(figures("c", "image", run, failed, gap) for run, failed, gap in ((1, 40, 1.0), (2, 50, 1.2), (3, 45, 0.9))),
        figures("c", "port", 1, None, 0.66),
    )
    assert f"| 45 (40{DASH}50) | 1.00 (0.90{DASH}1.20) |" in row(report, image.title, "c")
    assert f"| {DASH} | 0.66 |" in row(report, port.title, "c")
