"""appResources, nginxResources and edgeResources reach the task specs of the services they are for, and no other."""

from __future__ import annotations

import logging

import pytest

from offline_runner.mock_program import run_stack
from tests.unit.conftest import service

MIB = 1024**2
SERVICES = {
    "appResources": ("webapp-real", "webapp-backup"),
    "nginxResources": ("webapp-nginx",),
    "edgeResources": ("webapp-edge",),
}
ALL = ("webapp-real", "webapp-backup", "webapp-nginx", "webapp-edge")


def resources(program, name):
    return service(program, name).inputs["taskSpec"]["resources"]


def test_a_stack_that_sets_none_declares_an_empty_block(dev):
    # Empty, not left out: left out, pulumi-docker keeps the last read-back limits (swarm/service_spec.py).
    for name in ALL:
        assert resources(dev, name) == {}


@pytest.mark.parametrize("key", SERVICES)
def test_each_key_reaches_its_services_only(key):
    program = run_stack(
        "dev",
        overrides={
            key: {"limits": {"cpus": "1.5", "memory": "128M"}, "reservations": {"cpus": "0.05", "memory": "16M"}}
        },
    )
    for name in ALL:
        declared = resources(program, name)
        if name in SERVICES[key]:
            assert declared == {
                "limits": {"nanoCpus": 1_500_000_000, "memoryBytes": 128 * MIB},
                "reservation": {"nanoCpus": 50_000_000, "memoryBytes": 16 * MIB},
            }
        else:
            assert declared == {}, name


def test_a_part_left_out_is_not_declared():
    program = run_stack("dev", overrides={"appResources": {"limits": {"memory": "64M"}}})
    assert resources(program, "webapp-real") == {"limits": {"memoryBytes": 64 * MIB}}


def test_the_edge_notes_what_it_reserves_on_each_node(caplog):
    with caplog.at_level(logging.INFO):
        run_stack("dev", overrides={"edgeResources": {"reservations": {"cpus": "0.1", "memory": "32M"}}})
    (note,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rollout of the edge")]
    # publishMode host: stop-first, nothing on top.
    assert note.endswith("; reserves 0.1 CPU and 32 MiB for its task on each node, a rollout nothing more")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        run_stack(
            "dev",
            overrides={"edgeResources": {"reservations": {"memory": "32M"}}, "publishMode": "ingress"},
        )
    (note,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rollout of the edge")]
    assert note.endswith(
        "; reserves 32 MiB for its task on each node, a rollout up to 32 MiB more (1 extra task(s) at a time, start-first)"
    )
