"""Shared test policy: locally a missing component skips with how to provision
it; in CI (CI=true) it fails, because nothing may be skipped there."""

from __future__ import annotations

import os

import hypothesis
import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"

# In CI the property tests replay the same examples every run: a failure there
# is a counterexample to reproduce, never a roll of the dice.
hypothesis.settings.register_profile("ci", derandomize=True, database=None)
if IN_CI:
    hypothesis.settings.load_profile("ci")

_MEASURED: dict[str, list[str]] = {}


def require(available: bool, what: str, how: str) -> None:
    """Skip (locally) or fail (CI) when ``what`` is not available."""
    if available:
        return
    message = f"{what} is not available; provision it with: {how}"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def record_measurement(section: str, line: str) -> None:
    """Keep a measured figure for the run's summary, where it shows without -s."""
    _MEASURED.setdefault(section, []).append(line)


def pytest_terminal_summary(terminalreporter) -> None:
    for section, lines in _MEASURED.items():
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)
