"""What the tests and the benchmark read out of a task as Docker returns it."""

from __future__ import annotations

from engine_standin.swarm_env import overlay_addresses

# The shape of `GET /tasks` (moby api/types/swarm Task.NetworksAttachments), trimmed.
TASK = {
    "NetworksAttachments": [
        {"Network": {"ID": "ingress"}, "Addresses": ["10.0.0.7/24"]},
        {"Network": {"ID": "stack"}, "Addresses": ["10.252.0.14/24"]},
    ]
}


def test_every_network_address_without_prefix_length():
    assert overlay_addresses(TASK) == ["10.0.0.7", "10.252.0.14"]


def test_one_network_only():
    assert overlay_addresses(TASK, "stack") == ["10.252.0.14"]


def test_a_task_not_attached_yet_has_none():
    assert overlay_addresses({}) == []
    assert overlay_addresses({"NetworksAttachments": [{"Network": {"ID": "stack"}}]}, "stack") == []
