"""swarm/refresh.py: the deploy's refresh leaves out exactly the networks, configs and secrets."""

from __future__ import annotations

import subprocess
import sys

from engine_standin.swarm_applier.apply import urn_matches
from offline_runner.mock_program import run_stack
from offline_runner.resource_types import NETWORK, SECRET, SERVICE_CONFIG
from offline_runner.stack_config import REPO_ROOT
from swarm_zero_downtime.swarm.refresh import NOT_REFRESHED, refresh_excludes
from tests.support.tls import issue


def excluded(urn: str) -> bool:
    return any(urn_matches(pattern, urn) for pattern in refresh_excludes())


def test_the_excluded_types_are_the_ones_whose_read_turns_a_failure_into_gone():
    assert set(NOT_REFRESHED) == {NETWORK, SERVICE_CONFIG, SECRET}


def test_every_network_config_and_secret_of_the_program_is_excluded_and_nothing_else():
    program = run_stack("dev", secrets=issue("localhost").secrets)
    custom = [r for r in program.resources if r.custom]
    assert {r.type for r in custom} >= set(NOT_REFRESHED)  # each type is declared, whatever its parent
    for resource in custom:
        assert excluded(resource.urn) == (resource.type in NOT_REFRESHED), resource.urn


def test_urn_patterns_match_as_the_engine_matches_them():
    urn = "urn:pulumi:dev::p::p:index:Top$p:index:Net$docker:index/network:Network::net"
    assert urn_matches("**docker:index/network:Network::*", urn)
    assert urn_matches("urn:pulumi:dev::p::**docker:index/network:Network::*", urn)
    # `*` never crosses a colon: it cannot stand for a parent's type.
    assert not urn_matches("urn:pulumi:dev::p::*docker:index/network:Network::*", urn)
    assert not urn_matches("**docker:index/network:Network::*", urn.replace("Network::", "NetworkX::"))
    assert urn_matches(urn, urn) and not urn_matches(urn[:-1], urn)


def test_the_pipeline_reads_the_patterns_from_the_module():
    printed = subprocess.run(
        [sys.executable, "-m", "swarm_zero_downtime.swarm.refresh"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert printed == refresh_excludes()
    assert (
        "venv/bin/python -m swarm_zero_downtime.swarm.refresh" in (REPO_ROOT / "scripts" / "pulumi-up.sh").read_text()
    )
