"""The pack reads durations, health windows and labels as the program writes them.

The pack runs on its own (an organisation applies it to other programs too),
so it cannot import the program; these keep its copies in step with it.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from offline_runner.resource_types import SERVICE
from rollout_policy import service
from rollout_policy.durations import describe, parse_duration
from swarm_zero_downtime.swarm import naming
from swarm_zero_downtime.swarm.values import HOUR, MILLISECOND, Duration, HealthCheck, go_duration

nanos = st.integers(min_value=0, max_value=100 * HOUR)


@given(nanos)
def test_a_duration_reads_back_as_the_program_writes_it(value: int):
    assert parse_duration(go_duration(value)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("1.5s", 1_500_000_000), ("1h0m0.5s", HOUR + 500 * MILLISECOND), (".5ms", 500_000), ("-2s", -2 * 10**9)],
)
def test_go_duration_syntax_the_program_does_not_write(text: str, value: int):
    assert parse_duration(text) == value


@pytest.mark.parametrize("text", ["", "10", "s", "1x", "1s2", "1 s", "--1s"])
def test_what_go_refuses_is_refused(text: str):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_durations_in_messages():
    assert [describe(n) for n in (0, 12 * 10**9, 1_500_000_000)] == ["0s", "12s", "1.5s"]


durations = st.integers(min_value=MILLISECOND, max_value=HOUR).map(Duration)


@given(durations, durations, st.integers(min_value=1, max_value=100), st.integers(0, HOUR).map(Duration))
def test_the_health_window_is_the_programs(interval: Duration, timeout: Duration, retries: int, start: Duration):
    health = HealthCheck("/", interval, timeout, retries, start)
    # What http_healthcheck (swarm/service_spec.py) declares, as the engine passes it.
    declared = {
        "interval": interval.text,
        "timeout": timeout.text,
        "retries": float(retries),
        "startPeriod": start.text,
    }
    timings = service.HealthTimings.of(declared)
    assert timings.time_to_unhealthy == health.time_to_unhealthy.nanos
    assert timings.time_to_turn_unhealthy == health.time_to_turn_unhealthy.nanos


def test_timings_left_out_are_dockers_defaults():
    timings = service.HealthTimings.of({"tests": ["CMD", "true"], "interval": "0s", "retries": 0.0})
    assert timings.time_to_unhealthy == parse_duration("3m")


def test_the_labels_and_type_are_the_programs():
    assert (service.POOL_LABEL, service.BACKUP_POOL) == (naming.POOL_LABEL, naming.BACKUP)
    assert (service.TIER_LABEL, service.L7_TIER) == (naming.TIER_LABEL, naming.L7_TIER)
    assert service.SERVICE == SERVICE


def test_an_auto_name_is_the_logical_name_and_seven_hex_characters():
    assert service.auto_named({}, "webapp-real")
    assert service.auto_named({"name": "webapp-real-0a1b2c3"}, "webapp-real")
    for fixed in ("webapp-real", "webapp-real-prod", "webapp-real-0A1B2C3", "other-0a1b2c3", "webapp-real-0a1b2c34"):
        assert not service.auto_named({"name": fixed}, "webapp-real"), fixed
