"""appResources, nginxResources and edgeResources: what each accepts, and every problem naming the path inside the key."""

from __future__ import annotations

import json

import pytest

from offline_runner.mock_program import run_stack
from swarm_zero_downtime.settings import SettingsError
from swarm_zero_downtime.settings.parsers import InvalidValue
from swarm_zero_downtime.settings.resources import RULES, ResourcesRule
from swarm_zero_downtime.swarm.values import KIB, ResourceAmounts, TaskResources

KEY = "swarm-zero-downtime:"
KEYS = ("appResources", "nginxResources", "edgeResources")
MIB = KIB**2


def parse(value: object, key: str = "appResources") -> TaskResources:
    return ResourcesRule(key).parse(json.dumps(value))


def test_every_key_has_the_rule():
    assert {key: ResourcesRule(key) for key in KEYS} == RULES


@pytest.mark.parametrize(
    "value, expected",
    [
        ({}, TaskResources()),
        ({"limits": {}, "reservations": {}}, TaskResources()),
        (
            {"limits": {"cpus": "0.5", "memory": "256M"}, "reservations": {"cpus": "0.25", "memory": "128M"}},
            TaskResources(ResourceAmounts(500_000_000, 256 * MIB), ResourceAmounts(250_000_000, 128 * MIB)),
        ),
        # cpus as a number or text, at most 3 decimals; memory in go-units' forms (1024-based, any case, b/ib).
        ({"limits": {"cpus": 2}}, TaskResources(limits=ResourceAmounts(nano_cpus=2_000_000_000))),
        ({"limits": {"cpus": 0.01}}, TaskResources(limits=ResourceAmounts(nano_cpus=10_000_000))),
        ({"reservations": {"cpus": "0.001"}}, TaskResources(reservations=ResourceAmounts(nano_cpus=1_000_000))),
        ({"limits": {"memory": "6m"}}, TaskResources(limits=ResourceAmounts(memory_bytes=6 * MIB))),
        ({"limits": {"memory": "64MiB"}}, TaskResources(limits=ResourceAmounts(memory_bytes=64 * MIB))),
        ({"limits": {"memory": "64mb"}}, TaskResources(limits=ResourceAmounts(memory_bytes=64 * MIB))),
        ({"limits": {"memory": "1.5G"}}, TaskResources(limits=ResourceAmounts(memory_bytes=1536 * MIB))),
        ({"limits": {"memory": "65536k"}}, TaskResources(limits=ResourceAmounts(memory_bytes=64 * MIB))),
        ({"limits": {"memory": 67108864}}, TaskResources(limits=ResourceAmounts(memory_bytes=64 * MIB))),
        ({"limits": {"memory": "67108864b"}}, TaskResources(limits=ResourceAmounts(memory_bytes=64 * MIB))),
        # A reservation as large as its limit.
        (
            {"limits": {"memory": "64M"}, "reservations": {"memory": "64M"}},
            TaskResources(ResourceAmounts(memory_bytes=64 * MIB), ResourceAmounts(memory_bytes=64 * MIB)),
        ),
    ],
)
def test_good_values(value, expected):
    assert parse(value) == expected


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(
    "value, fragment",
    [
        # moby daemon/daemon_unix.go linuxMinMemory: 6 MiB.
        ({"limits": {"memory": "5M"}}, "{key}.limits.memory: '5M' is 5 MiB; must be at least 6 MiB"),
        ({"limits": {"memory": "6291455"}}, "{key}.limits.memory: '6291455' is 6291455 B; must be at least 6 MiB"),
        ({"limits": {"memory": "256 megs"}}, "{key}.limits.memory: '256 megs' must be a size such as 256M"),
        ({"limits": {"memory": "1t"}}, "{key}.limits.memory: '1t' must be a size such as 256M"),
        ({"limits": {"memory": "2048g"}}, "{key}.limits.memory: '2048g' must be at most 1024 GiB"),
        ({"limits": {"memory": "256Mi"}}, "{key}.limits.memory: '256Mi' must be a size"),
        ({"limits": {"memory": 1.5}}, "{key}.limits.memory: '1.5' must be a size"),
        ({"reservations": {"memory": "0"}}, "{key}.reservations.memory: '0' is 0 B; must be at least 1 B"),
        ({"limits": {"cpus": "0.005"}}, "{key}.limits.cpus: 0.005 must be from 0.01 to 1024"),
        ({"limits": {"cpus": 0}}, "{key}.limits.cpus: 0 must be from 0.01 to 1024"),
        ({"reservations": {"cpus": "0"}}, "{key}.reservations.cpus: 0 must be from 0.001 to 1024"),
        ({"limits": {"cpus": "0.0001"}}, "{key}.limits.cpus: '0.0001' must be a number of CPUs"),
        ({"limits": {"cpus": "-1"}}, "{key}.limits.cpus: '-1' must be a number of CPUs"),
        ({"limits": {"cpus": "half"}}, "{key}.limits.cpus: 'half' must be a number of CPUs"),
        ({"limits": {"cpus": True}}, "{key}.limits.cpus: 'True' must be a number of CPUs"),
        ({"limits": {"cpus": 1e-05}}, "{key}.limits.cpus: '1e-05' must be a number of CPUs"),
        (
            {"limits": {"cpus": "0.5"}, "reservations": {"cpus": "1"}},
            "{key}.reservations.cpus: 1 is above {key}.limits.cpus (0.5); a reservation must be at most its limit",
        ),
        (
            {"limits": {"memory": "64M"}, "reservations": {"memory": "65M"}},
            "{key}.reservations.memory: 65 MiB is above {key}.limits.memory (64 MiB)",
        ),
        ({"limit": {"cpus": 1}}, "{key}: 'limit' unknown; allowed: limits, reservations"),
        ({"limits": {"cpu": 1, "pids": 5}}, "{key}.limits: 'cpu', 'pids' unknown; allowed: cpus, memory"),
        ({"reservations": {"generic_resources": []}}, "{key}.reservations: 'generic_resources' unknown"),
        ({"limits": "1"}, "{key}.limits: must be an object with cpus, memory (each optional)"),
        ("256M", 'must be {{}} (none), or {{"limits"'),
        (["limits"], "must be {{}} (none), or"),
    ],
)
def test_a_bad_value_names_the_key_and_the_path_in_it(key, value, fragment):
    with pytest.raises(SettingsError) as error:
        run_stack("dev", overrides={key: value})
    (problem,) = error.value.problems
    assert problem.startswith(f"{KEY}{key}: "), problem
    assert fragment.format(key=key) in problem, problem


def test_each_key_is_read_on_its_own():
    with pytest.raises(SettingsError) as error:
        run_stack(
            "dev",
            overrides={
                "appResources": {"limits": {"memory": "1M"}},
                "nginxResources": {"limits": {"cpus": "x"}},
                "edgeResources": {"limits": {"cpus": "1"}},
            },
        )
    assert [p.split(": ")[0] for p in error.value.problems] == [f"{KEY}appResources", f"{KEY}nginxResources"]


def test_the_allowed_text_names_the_forms():
    allowed = ResourcesRule("appResources").allowed
    assert '"limits": {"cpus": "0.5", "memory": "256M"}' in allowed
    assert "from 6M for a limit" in allowed
    with pytest.raises(InvalidValue, match="must be "):
        ResourcesRule("appResources").parse("not json")
