"""The program on a real 3-node swarm, under load, through what only several nodes can show.

Three Docker-in-Docker nodes (tests/cluster/nodes.py), all managers, labelled
zone=a/b/c; the cluster stack (tests/cluster/stack.py) spreads the pools and
the L7 tier over the zones and runs the edge on every node, so every node is
an entry point: clients connect to <node address>:18180.

Every scenario runs the probe through one node's entry point, or through a
load balancer in front of all three (HAProxy, tests/support/load_balancer.py),
(4 clients, 2 of them on ~1 s requests; in scenario 6 also HTTPS passed through
HAProxy, 2 clients, one on ~0.1 s requests) and counts every answer: which pool and which node
answered it (each task hostname counted on the node that runs it at the end),
and every failure by kind. The scenarios share one deployment and run in this
file's order: each starts from the state the previous one left. Each prints
its figures on a line starting with FIGURES.

The applier stands in for `pulumi up` as pulumi-docker and the engine really
behave (engine_standin/swarm_applier), through one manager's API, with the stack
config's docker:host naming the same manager (the rollout gates use it).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import pytest
import requests

from engine_standin.swarm_applier import ApplyReport
from swarm_zero_downtime.nginx.edge_start_gate import BOUND, MIN_L7_TASKS
from swarm_zero_downtime.nginx.l7_tier import HEALTH_PATH
from swarm_zero_downtime.swarm.values import SECOND
from tests.cluster.nodes import DOCKER_PORT, NODES, Node, wait_until
from tests.cluster.stack import (
    APP,
    CLIENT_TIMEOUT_S,
    EDGE_DRAIN,
    HTTPS_PORT,
    PORT,
    ROLES,
    SECTION,
    TLS_NAME,
    Deployment,
    Load,
    by_node,
    explain,
    print_figures,
    slowest_answer_s,
    versions,
)
from tests.conftest import record_measurement
from tests.support.load_balancer import Checks, EdgeAddress, LoadBalancer
from tests.support.probe_load import http_errors
from tests.support.tls import IssuedCertificate, issue

IMAGE = "taskSpec.containerSpec.image"
SPEC_LABEL = "labels[1].value"  # the pools' spec fingerprint (components/base.py spec_label)
TIER_SPEC_LABEL = "labels[0].value"  # the nginx tiers' only label
LB_PORT = 18190
NEXT_EDGE_IMAGE = "szd-nginx:next"
LB_TLS_PORT = LB_PORT + 1
MOVED_PORT = PORT + 2  # publishedPort from scenario 6c on
# The load balancer's checks, and the edge's drain they fit in (CLUSTER_OVERRIDES).
CHECKS = Checks(interval_ms=250, fall=2, rise=2)
CHECKED = f"checks every {CHECKS.interval_ms} ms, out after {CHECKS.fall}, edgeDrain {EDGE_DRAIN}"
SETTLE_S = 1.0  # load before and after each change, so both steady states are measured (hundreds of requests)
LOST_CLIENT_TIMEOUT_S = 5.0
NODE1, NODE2, NODE3 = NODES
NODE_NAMES = [n.name for n in NODES]
REAL, BACKUP, NGINX, EDGE = (f"{APP}-{role}" for role in ("real", "backup", "nginx", "edge"))
GATE = f"{REAL}-rollout"
# What must run somewhere, whatever happens to one node.
SERVING = {"real": 2, "backup": 2, "nginx": 2}


def spread(d: Deployment) -> dict[str, list[str]]:
    """The nodes of every task; the pools and the L7 tier each on two different nodes, the edge on all three."""
    placement = d.placement()
    for role in SERVING:
        assert len(set(placement[role])) == len(placement[role]) == 2, placement
    return placement


def restart(d: Deployment, node: Node, via: Node | None = None) -> float:
    """The node back on after a power loss; seconds until ``via`` sees it Ready (a reachable manager).

    Kept in the run's summary, split at the moment its dockerd answers: the
    return of a killed leader took from 21 s to about 80 s across runs.
    """
    docker_s, back_s = d.cluster.wait_back(node, via or d.manager, d.cluster.start(node))
    record_measurement(
        SECTION, f"{node.name} restarted: dockerd answered after {docker_s:.1f}s, Ready after {back_s:.1f}s"
    )
    return back_s


def restart_entry_point(d: Deployment, node: Node) -> None:
    """The node back on after a power loss, and once more a whole entry point, whose new edge
    started nginx once it knew two L7 tasks (or gave up waiting at the gate's bound)."""
    back_s = restart(d, node)
    entry_s = d.wait_entry_point(node)
    known, waited_s = d.edge_start_gate(node)
    print(f"{node.name} restarted: Ready after {back_s:.1f}s, a whole entry point {entry_s:.1f}s later", flush=True)
    record_measurement(SECTION, f"{node.name}'s new edge: its start gate knew {known} L7 tasks after {waited_s}s")
    assert known >= MIN_L7_TASKS or waited_s >= BOUND.nanos // SECOND - 1, (known, waited_s)


def went_down(balancer: LoadBalancer, since: dict[str, int] | None = None) -> dict[str, int]:
    """How many times HAProxy took each edge out, in HTTP mode ("name") and passing TLS through ("name tls")."""
    return {name: state.went_down - (since or {}).get(name, 0) for name, state in balancer.states().items()}


def in_both_modes(names: Iterable[str]) -> set[str]:
    """HAProxy's servers for these edges: in HTTP mode and passing TLS through (went_down's names)."""
    return {server for name in names for server in (name, f"{name} tls")}


def test_scenario1_deploy_then_image_tag_v2_behind_a_load_balancer(deployment: Deployment):
    """HAProxy in front of the three nodes checks each edge's health path; the pools roll
    behind the edges, which HAProxy never takes out."""
    d = deployment
    assert d.initial is not None
    assert {c.action for c in d.initial.changes} == {"create"}, str(d.initial)
    before = spread(d)
    assert before["edge"] == [n.name for n in NODES], before
    tasks = {role: {t["ID"] for t in d.tasks(role)} for role in ROLES}
    edges = {n.name: EdgeAddress(n.address, PORT) for n in NODES}

    with LoadBalancer(edges, LB_PORT, HEALTH_PATH, CLIENT_TIMEOUT_S, CHECKS) as balancer:
        balancer.wait_up()
        out_before = went_down(balancer)
        with Load(balancer) as load:
            time.sleep(SETTLE_S)
            # The second `pulumi up` of the new stack (refreshed, nothing changed); the
            # pools and the L7 tier declare a placement (spreadOver) here.
            second = d.apply()
            restarted = {role: len(tasks[role] - {t["ID"] for t in d.tasks(role)}) for role in ROLES}
            l7_tasks = {t["ID"] for t in d.tasks("nginx")}
            started = time.time()
            report = d.apply(imageTag="v2")
            seconds = time.time() - started
            # The gate returns once Swarm has updated the last node; HAProxy needs `rise` checks more.
            balancer.wait_up()
            time.sleep(SETTLE_S)
        taken_out = went_down(balancer, out_before)
        hostnames = d.hostnames()
        after = spread(d)
        figures = print_figures(
            "1 deploy v1, a refreshed `up` with nothing changed, then imageTag v1 -> v2"
            f" behind HAProxy (checks every {CHECKS.interval_ms} ms, out after {CHECKS.fall})",
            load,
            hostnames,
            seconds,
            deploy_s=round(d.initial.seconds, 1),
            second_up_changes=second.changed(),
            tasks_restarted_by_second_up=restarted,
            registry=d.registry.address,
            placement_before=before,
            placement_after=after,
            taken_out=taken_out,
            slowest_answer_s=slowest_answer_s(load),
        )

        assert figures["failed"] == 0, explain(d, load)
    assert second.changed() == {}, str(second)
    assert restarted == dict.fromkeys(ROLES, 0), restarted
    assert report.changed() == {
        REAL: ("update", (SPEC_LABEL, IMAGE)),
        GATE: ("update", ("image", "spec_sha256")),
        BACKUP: ("update", (SPEC_LABEL, IMAGE)),
    }, str(report)
    assert versions(NODE1) == {"v2"}
    assert taken_out == dict.fromkeys(edges, 0), taken_out
    assert {t["ID"] for t in d.tasks("nginx")} == l7_tasks
    # Real tasks on two nodes answered, whichever node each request entered (across the overlay).
    last = by_node(load.result.last(SETTLE_S), hostnames)
    assert len(last) == 2 and "(gone)" not in last, last


# Run in a container on a node (argv: port, hosts): whether the container's
# gateway and each host answer a TCP connect on the port.
REACHES = """
import socket, struct, sys
port, *hosts = sys.argv[1:]
with open("/proc/net/route") as routes:
    gateway = next(socket.inet_ntoa(struct.pack("<L", int(f[2], 16)))
                   for f in (line.split() for line in routes) if f[1] == "00000000")
for host in [gateway, *hosts]:
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        print(host, "answers")
    except OSError as error:
        print(host, "closed:", error)
"""


def test_a_container_on_a_node_cannot_reach_the_node_docker_api(deployment: Deployment):
    """The nodes' API has no TLS and no authentication: the host and the other nodes reach it, a task does not."""
    d = deployment
    node = d.cluster.node(d.nodes_of("real")[0])  # holds the app's image: nothing to pull
    image = d.service("real")["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    api = node.api()
    container = api.create_container(image, entrypoint=["python3", "-c", REACHES, str(DOCKER_PORT), node.address])
    try:
        api.start(container)
        assert api.wait(container, timeout=30)["StatusCode"] == 0, api.logs(container)
        seen = api.logs(container).decode().splitlines()
    finally:
        api.remove_container(container, force=True)
    print(f"from a container on {node.name}: {seen}", flush=True)
    assert len(seen) == 2 and not any(line.endswith("answers") for line in seen), seen
    node.api(timeout=5).ping()  # while the host still does


def test_scenario2_drained_node_fails_no_request(deployment: Deployment):
    d = deployment
    entry = NODE1
    victim = next(n for n in (NODE2, NODE3) if n.name in d.nodes_of("real"))
    d.wait_entry_point(entry)

    with Load(entry) as load:
        time.sleep(SETTLE_S)
        drained_at = time.time()
        d.cluster.set_availability(victim, "drain", via=d.manager)  # `docker node update --availability drain`
        moved_s = d.wait_off(victim.name, {**SERVING, "edge": 2}, since=drained_at)
        time.sleep(SETTLE_S)
    hostnames = d.hostnames()
    placement = d.placement()
    figures = print_figures(
        f"2 {victim.name} drained (held a real task)",
        load,
        hostnames,
        None,
        drained=victim.name,
        tasks_moved_off_after_s=moved_s,
        placement_after=placement,
    )
    d.cluster.set_availability(victim, "active", via=d.manager)
    edge_back_s = d.wait_tasks("edge", 3, on=victim.name)
    print(f"{victim.name} active again; its edge task ran after {edge_back_s:.1f}s", flush=True)

    assert figures["failed"] == 0, explain(d, load)
    assert all(victim.name not in nodes for nodes in placement.values()), placement
    assert by_node(load.result.last(SETTLE_S), hostnames).keys() <= {n.name for n in NODES} - {victim.name}


def test_scenario2b_a_killed_edge_fails_only_its_own_nodes_clients_until_swarm_replaces_it(deployment: Deployment):
    d = deployment
    victim, other = NODE3, NODE1
    names = d.node_names()
    (edge,) = [t for t in d.tasks("edge") if names[t["NodeID"]] == victim.name]
    for entry in (victim, other):
        d.wait_entry_point(entry)

    def replaced() -> bool | None:
        return any(names[t["NodeID"]] == victim.name and t["ID"] != edge["ID"] for t in d.tasks("edge")) or None

    with Load(victim) as own, Load(other) as elsewhere:
        time.sleep(SETTLE_S)
        killed_at = time.time()
        victim.api().kill(edge["Status"]["ContainerStatus"]["ContainerID"])  # `docker kill`: SIGKILL
        wait_until(f"a new edge task running on {victim.name}", replaced, timeout=60)
        back_s = time.time() - killed_at
        time.sleep(SETTLE_S)
    hostnames = d.hostnames()
    print_figures(
        f"2b the edge on {victim.name} killed (SIGKILL): its own clients",
        own,
        hostnames,
        None,
        edge_running_again_after_s=round(back_s, 1),
        gap_s=round(own.result.failure_span_s, 2),
    )
    elsewhere_figures = print_figures(
        f"2b the edge on {victim.name} killed: clients on {other.name}", elsewhere, hostnames
    )

    assert elsewhere_figures["failed"] == 0, explain(d, elsewhere)
    # Measured, not promised (docs/testing.md quotes the gap): the node refuses connections
    # and resets the ones its dead edge held, its new edge answers no error, not even in its
    # first moments, and all is well again once Swarm has replaced it.
    assert http_errors(own.result) == [], explain(d, own)
    assert own.result.last(SETTLE_S).failed == 0, explain(d, own)


def test_scenario3_node_dying_silently_fails_no_request_through_another_node(deployment: Deployment):
    d = deployment
    entry = NODE1
    placement = d.placement()
    # A node that holds app tasks, not the clients' entry point; one with an L7 task too if there is one.
    candidates = [n for n in (NODE2, NODE3) if n.name in placement["real"] + placement["backup"]]
    assert candidates, placement
    victim = max(candidates, key=lambda n: (n.name in placement["nginx"], n.name in placement["real"]))
    held = {role: placement[role].count(victim.name) for role in SERVING}
    d.wait_entry_point(entry)

    with Load(entry) as load:
        time.sleep(SETTLE_S)
        # Network cut, then SIGKILL: every task on it dies without a word.
        killed_at = d.cluster.kill(victim)
        down_s = d.cluster.wait_down(victim, via=d.manager)
        replaced_s = d.wait_off(victim.name, SERVING, since=killed_at)
        time.sleep(SETTLE_S)
    hostnames = d.hostnames()
    figures = print_figures(
        f"3 {victim.name} cut off and killed, clients on {entry.name}",
        load,
        hostnames,
        None,
        killed=victim.name,
        tasks_it_held=held,
        marked_down_after_s=round(down_s, 1),
        tasks_replaced_after_s=replaced_s,
        placement_after=d.placement(),
        slowest_answer_s=slowest_answer_s(load),
    )
    restart_entry_point(d, victim)

    assert figures["failed"] == 0, explain(d, load)


def test_scenario4_killed_entry_node_only_its_own_clients_fail(deployment: Deployment):
    d = deployment
    # Two entry points, neither the manager the test talks to; the one killed holds app tasks if one does.
    placement = d.placement()
    entries = [n for n in NODES if n != d.manager]
    killed = max(
        entries, key=lambda n: sum(nodes.count(n.name) for role, nodes in placement.items() if role in SERVING)
    )
    (other,) = (n for n in entries if n != killed)
    held = {role: placement[role].count(killed.name) for role in SERVING}
    for entry in (killed, other):
        d.wait_entry_point(entry)
    # Leadership can have moved in scenario 3; a new leader may mark a live node down.
    leader_at_kill = d.cluster.leader(via=d.manager)

    # Nothing answers the killed node's clients again: a short wait, so the
    # load's end does not wait long for their last requests.
    with Load(killed, timeout=LOST_CLIENT_TIMEOUT_S) as lost, Load(other) as kept:
        time.sleep(SETTLE_S)
        killed_at = d.cluster.kill(killed)
        down_s = d.cluster.wait_down(killed, via=d.manager)
        d.wait_off(killed.name, SERVING, since=killed_at)
        time.sleep(SETTLE_S)
    leader = d.cluster.wait_leader(via=d.manager)
    hostnames = d.hostnames()
    lost_figures = print_figures(
        f"4a {killed.name} killed: its own clients",
        lost,
        hostnames,
        None,
        killed=killed.name,
        marked_down_after_s=round(down_s, 1),
        tasks_it_held={role: n for role, n in held.items() if n},
        answered_after_kill=lost.result.window(lost.at(killed_at) + 0.5, lost.result.duration_s).ok,
        leader_at_kill=leader_at_kill.name,
        leader_after=leader.name,
        missed_new_leader_grace=sorted(d.cluster.marked_down_by_new_leader(leader, since=killed_at)),
    )
    kept_figures = print_figures(
        f"4b {killed.name} killed: clients on {other.name}",
        kept,
        hostnames,
        slowest_answer_s=slowest_answer_s(kept),
    )
    restart_entry_point(d, killed)

    assert kept_figures["failed"] == 0, explain(d, kept)
    # The killed node's clients lose their entry point: what they saw is reported above.
    assert lost.result.failed > 0
    assert lost_figures["answered_after_kill"] == 0


def test_scenario5_killed_leader_apply_goes_through_the_remaining_managers(deployment: Deployment):
    d = deployment
    leader = d.cluster.leader(via=d.manager)
    survivors = [n for n in NODES if n != leader]
    entry, manager = survivors
    d.wait_entry_point(entry)

    with Load(entry) as load:
        time.sleep(SETTLE_S)
        killed_at = d.cluster.kill(leader)
        new_leader = d.cluster.wait_leader(via=manager)
        elected_s = time.time() - killed_at
        # `DOCKER_HOST` / `docker:host` pointed at a surviving manager.
        d.use_manager(manager)
        started = time.time()
        report = d.apply(imageTag="v1")
        apply_s = time.time() - started
        # The new leader gives every node 6 heartbeat periods to open a session
        # with it (tests/cluster/nodes.py HEARTBEAT_NS), then marks the killed
        # one down and restarts its tasks elsewhere: the load covers that too.
        wait_until(
            f"{new_leader.name} marking the killed {leader.name} down",
            lambda: leader.name in d.cluster.marked_down_by_new_leader(new_leader, since=killed_at) or None,
            timeout=60.0,
            poll=1.0,
        )
        time.sleep(SETTLE_S)
    hostnames = d.hostnames()
    # A live node that misses that grace has all its tasks restarted at once,
    # outside update_config.
    marked_down = d.cluster.marked_down_by_new_leader(new_leader, since=killed_at)
    figures = print_figures(
        f"5 leader {leader.name} killed; imageTag v2 -> v1 through {manager.name}",
        load,
        hostnames,
        apply_s,
        killed=leader.name,
        new_leader=new_leader.name,
        leader_elected_after_s=round(elected_s, 1),
        marked_down_by_new_leader=sorted(marked_down),
        placement_after=d.placement(),
        slowest_answer_s=slowest_answer_s(load),
    )
    back_s = restart(d, leader, via=manager)
    print(f"{leader.name} restarted: Ready (a reachable manager) after {back_s:.1f}s", flush=True)

    changed = report.changed()
    assert changed[REAL] == changed[BACKUP] == ("update", (SPEC_LABEL, IMAGE)), str(report)
    assert changed[GATE][0] == "update"
    assert versions(entry) == {"v1"}
    assert marked_down == {leader.name}, f"{new_leader.name} marked down {marked_down}, not just {leader.name}"
    assert figures["failed"] == 0, explain(d, load)


class Tls(NamedTuple):
    """The certificate scenario 6 turns TLS on with and 6c keeps, and its CA for the HTTPS clients."""

    certificate: IssuedCertificate
    ca_file: str


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    certificate = issue(TLS_NAME)
    return Tls(certificate, str(certificate.ca_file(tmp_path_factory.mktemp("ca"))))


@dataclass(frozen=True)
class BalancedApply:
    """One `pulumi up` under load through the load balancer, and how often HAProxy took each server out."""

    report: ApplyReport
    seconds: float
    taken_out: dict[str, int]


def apply_behind(
    balancer: LoadBalancer,
    d: Deployment,
    *loads: Load,
    up: Collection[str] | None = None,
    secrets: dict[str, str] | None = None,
    **overrides: object,
) -> BalancedApply:
    """Under ``loads``: SETTLE_S, the `up`, until HAProxy has the servers in ``up`` (all of them
    by default) UP again (its `rise` checks come after the gate's return), SETTLE_S more."""
    before = went_down(balancer)
    with contextlib.ExitStack() as held:
        for load in loads:
            held.enter_context(load)
        time.sleep(SETTLE_S)
        started = time.time()
        report = d.applier.deploy(d.program(secrets, **overrides))  # `make deploy`, as Deployment.apply
        seconds = time.time() - started
        balancer.wait_up(only=up)
        time.sleep(SETTLE_S)
    return BalancedApply(report, seconds, went_down(balancer, before))


def print_none_failed(
    d: Deployment, scenario: str, load: Load, change: BalancedApply, hostnames: dict[str, str], **extra: object
) -> dict[str, object]:
    """One load's figures through the change, and none of its requests failed."""
    figures = print_figures(scenario, load, hostnames, change.seconds, **extra)
    assert figures["failed"] == 0, explain(d, load)
    return figures


def print_http_and_https(
    d: Deployment, scenario: str, plain: Load, passed: Load, change: BalancedApply
) -> dict[str, object]:
    """Both loads' figures, and neither failed; the HTTPS load's figures."""
    hostnames = d.hostnames()
    print_none_failed(d, f"{scenario}, HTTP load", plain, change, hostnames)
    return print_none_failed(
        d,
        f"{scenario}, HTTPS load passed through",
        passed,
        change,
        hostnames,
        taken_out=change.taken_out,
        slowest_answer_s=slowest_answer_s(passed),
    )


def test_scenario6_tls_turned_on_then_edge_image_behind_a_load_balancer_under_https(deployment: Deployment, tls: Tls):
    """HAProxy also passes TLS through to each node's edge (TCP mode), checked on its HTTP port. Turning
    TLS on restarts every edge for its new port, drained one node after the other, and rolls the L7
    tier. Then an edge change under HTTP and HTTPS load: a TLS connection HAProxy opened through a
    node before taking it out ends at the L7 tier (half of edgeDrain into it) before that edge stops."""
    d = deployment
    certificate, ca_file = tls
    edges = {n.name: EdgeAddress(n.address, PORT, HTTPS_PORT) for n in NODES}

    with LoadBalancer(edges, LB_PORT, HEALTH_PATH, CLIENT_TIMEOUT_S, CHECKS, tls_port=LB_TLS_PORT) as balancer:
        # Scenario 5's killed leader is back: its edge too.
        balancer.wait_up(timeout=60)
        turning_on = Load(balancer)
        enabled = apply_behind(balancer, d, turning_on, imageTag="v1", secrets=certificate.secrets)
        scenario = f"6a TLS turned on behind HAProxy ({CHECKED}), HTTP load"
        print_none_failed(d, scenario, turning_on, enabled, d.hostnames(), taken_out=enabled.taken_out)
        # Plain HTTP now only redirects, and HTTPS reaches the app through HAProxy.
        redirected = requests.get(balancer.url, allow_redirects=False, timeout=5).status_code
        wait_until(
            "HTTPS through HAProxy",
            lambda: True if requests.get(balancer.tls_url(TLS_NAME), verify=ca_file, timeout=5).ok else None,
            30,
        )
        l7_tasks = {t["ID"] for t in d.tasks("nginx")}

        plain, passed = Load(balancer), Load(balancer, ca_file=ca_file)
        changed = apply_behind(
            balancer, d, plain, passed, imageTag="v1", edgeImage=NEXT_EDGE_IMAGE, secrets=certificate.secrets
        )
        tls_figures = print_http_and_https(
            d, f"6b edgeImage changed behind HAProxy ({CHECKED})", plain, passed, changed
        )

    assert {EDGE, NGINX} <= set(enabled.report.changed()), str(enabled.report)
    assert redirected == 301
    # Every node's edge drained and restarted once, one after the other, each time.
    assert enabled.taken_out == dict.fromkeys(in_both_modes(NODE_NAMES), 1), enabled.taken_out
    assert changed.taken_out == dict.fromkeys(in_both_modes(NODE_NAMES), 1), changed.taken_out
    assert tls_figures["by_pool"] == {"real": passed.result.sent}, tls_figures
    assert changed.report.changed() == {
        EDGE: ("update", (TIER_SPEC_LABEL, IMAGE)),
        f"{EDGE}-rollout": ("update", ("image", "spec_sha256")),
    }, str(changed.report)
    assert {t["ID"] for t in d.tasks("nginx")} == l7_tasks


def test_scenario6c_published_port_moved_behind_a_load_balancer_that_checks_both(deployment: Deployment, tls: Tls):
    """publishedPort moved as docs/edge-and-l7-tier.md says: the load balancer's pool first gets each
    node on the new port too, out until something answers there; the `up` then moves each node's
    edge, drained on the old port, one node after the other. HTTPS (its port unchanged) is checked
    on either HTTP port, so it follows each node's edge too."""
    d = deployment
    certificate, ca_file = tls
    old = {n.name: EdgeAddress(n.address, PORT, HTTPS_PORT) for n in NODES}
    moved = {f"{n.name}-{MOVED_PORT}": EdgeAddress(n.address, MOVED_PORT, HTTPS_PORT) for n in NODES}
    pool = {**old, **moved}

    with LoadBalancer(pool, LB_PORT, HEALTH_PATH, CLIENT_TIMEOUT_S, CHECKS, tls_port=LB_TLS_PORT) as balancer:
        balancer.wait_up(only=in_both_modes(old))
        plain, passed = Load(balancer), Load(balancer, ca_file=ca_file)
        moving = apply_behind(
            balancer,
            d,
            plain,
            passed,
            up=in_both_modes(moved),
            secrets=certificate.secrets,
            imageTag="v1",
            edgeImage=NEXT_EDGE_IMAGE,
            publishedPort=MOVED_PORT,
        )
        scenario = f"6c publishedPort {PORT} -> {MOVED_PORT} behind HAProxy checking both ({CHECKED})"
        print_http_and_https(d, scenario, plain, passed, moving)

    assert moving.report.changed()[EDGE][0] == "update" and NGINX not in moving.report.changed(), str(moving.report)
    # Each node left the pool once on its old port and joined it on the new one, never left.
    assert moving.taken_out == {
        **dict.fromkeys(in_both_modes(old), 1),
        **dict.fromkeys(in_both_modes(moved), 0),
    }, moving.taken_out


def test_scenario6d_tls_turned_off_behind_a_load_balancer(deployment: Deployment):
    """Turning TLS off: the L7 tier rolls (plain HTTP answered again, not redirected), then every
    edge restarts without its HTTPS port, drained one node after the other. HTTPS clients have no
    port left by design: a user takes the HTTPS frontend out of the load balancer before."""
    d = deployment
    edges = {n.name: EdgeAddress(n.address, MOVED_PORT) for n in NODES}

    with LoadBalancer(edges, LB_PORT, HEALTH_PATH, CLIENT_TIMEOUT_S, CHECKS) as balancer:
        balancer.wait_up()
        load = Load(balancer)
        turned_off = apply_behind(balancer, d, load, imageTag="v1", edgeImage=NEXT_EDGE_IMAGE, publishedPort=MOVED_PORT)
        scenario = f"6d TLS turned off behind HAProxy ({CHECKED}), HTTP load"
        print_none_failed(d, scenario, load, turned_off, d.hostnames(), taken_out=turned_off.taken_out)
        answered = requests.get(balancer.url, allow_redirects=False, timeout=5)

    assert {EDGE, NGINX} <= set(turned_off.report.changed()), str(turned_off.report)
    assert turned_off.taken_out == dict.fromkeys(edges, 1), turned_off.taken_out
    assert answered.status_code == 200 and answered.text.startswith("app-real-"), answered.text
    for node in NODES:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://{node.address}:{HTTPS_PORT}/", timeout=5)
