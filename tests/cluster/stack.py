"""The cluster stack on the 3-node swarm, the load through one node's entry point, and the figures.

The stack is ``dev`` plus ``CLUSTER_OVERRIDES`` (test images from the test
registry, which every node pulls from, a port and an
overlay subnet of its own, short timings, tasks spread over the nodes'
``zone`` label), applied by ``SwarmApplier`` in place of `pulumi up` through
one manager's API; the stack config's ``docker:host`` names the same manager,
so the rollout gates (run in Pulumi's dynamic provider host) wait on that
swarm, as they would for a user with ``pulumi config set docker:host ...``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import docker
import requests

from engine_standin.swarm_applier import NETWORK, SERVICE, ApplyReport, SwarmApplier
from engine_standin.swarm_env import LocalRegistry, overlay_addresses
from offline_runner.mock_program import DeclaredProgram
from swarm_zero_downtime.nginx.edge import NEXT_UPSTREAM_TIMEOUT
from swarm_zero_downtime.nginx.edge_start_gate import gate_waited
from swarm_zero_downtime.swarm.naming import POOL_ROLES, TASK_PATTERN, edge_network_name, l7_tier_name, role_of_hostname
from swarm_zero_downtime.swarm.rollout_gate import wait_for_rollout
from tests.cluster.nodes import Cluster, Node, host_api, wait_until
from tests.conftest import record_measurement
from tests.e2e.harness import E2E_OVERRIDES
from tests.support.load_balancer import LoadBalancer
from tests.support.probe_load import Load as ProbeLoad
from tools.probe import ProbeOptions, ProbeResult, format_summary

STACK = "cluster"
PORT = 18180
HTTPS_PORT = PORT + 1  # httpsPort: TLS is off until scenario 6
APP = "szdcluster"
EDGE_DRAIN = "3s"

# The e2e suite's test settings, with a name, subnet and ports of its own, spread over the zones.
CLUSTER_OVERRIDES: dict[str, object] = {
    **E2E_OVERRIDES,
    "appName": APP,
    "overlaySubnet": "10.252.0.0/24",
    "edgeSubnet": "10.252.1.0/24",
    "publishedPort": PORT,
    "httpsPort": HTTPS_PORT,
    "spreadOver": "zone",
    # Each stopping edge fails a load balancer's health check for this long before nginx stops:
    # the scenarios' HAProxy takes a node out within 0.75 s. With TLS on, the L7 tier ends each
    # TLS connection half of this into it, which the HTTPS load's requests fit in with the checks.
    "edgeDrain": EDGE_DRAIN,
    # With the drain, the edge's nginx still has its second to close connections before
    # pulumi-docker's delete deadline (nginx/edge.py shortest_grace).
    "stopGracePeriod": "12s",
}
ROLES = ("real", "backup", "nginx", "edge")
SECTION = "multi-node swarm (3 Docker-in-Docker nodes): what each scenario measured"


def url(entry: Node) -> str:
    return f"http://{entry.address}:{PORT}/"


# The clients wait longer than nginx may keep a request: the edge starts
# retries for 10 s, and its last one goes to an L7 task that may retry for as
# long again (nginxNextUpstreamTimeout's default). Rescuing a request in flight
# to a silently dead node takes 3 to 7 s (components/nginx_service.py); what
# it took is the figure slowest_answer_s.
CLIENT_TIMEOUT_S = 2 * NEXT_UPSTREAM_TIMEOUT.seconds


def load_options(target: str, timeout: float = CLIENT_TIMEOUT_S) -> ProbeOptions:
    """4 clients, 2 of them on ~1 s requests, no rate cap; answers counted per task hostname."""
    return ProbeOptions(
        url=target,
        concurrency=4,
        slow_path="/1000",
        slow_share=0.5,
        timeout=timeout,
        pool_pattern=TASK_PATTERN,
    )


@dataclass
class Deployment:
    """The cluster stack, applied through ``manager``, and what the scenarios need to look at it."""

    cluster: Cluster
    manager: Node
    registry: LocalRegistry
    initial: ApplyReport | None = None
    applier: SwarmApplier = field(init=False)
    api: docker.APIClient = field(init=False)

    def __post_init__(self) -> None:
        self.use_manager(self.manager)

    def use_manager(self, manager: Node) -> None:
        """Talk to the swarm through another manager (`DOCKER_HOST` / `docker:host` pointed at it)."""
        self.manager = manager
        self.api = manager.api(timeout=120)
        self.applier = SwarmApplier(self.api, STACK)

    def program(self, secrets: dict[str, str] | None = None, **overrides: object) -> DeclaredProgram:
        # `pulumi config set docker:host tcp://...`: pulumi-docker and the rollout gates use it.
        provider = {"docker:host": self.manager.url}
        return self.registry.program(STACK, {**CLUSTER_OVERRIDES, **overrides}, secrets, provider)

    def apply(
        self, refresh: bool | None = None, secrets: dict[str, str] | None = None, **overrides: object
    ) -> ApplyReport:
        """`make deploy` through the current manager (refresh=None), or `pulumi up` with or without --refresh;
        ``secrets``: keys set with `pulumi config set --secret` (the TLS certificate and key)."""
        program = self.program(secrets, **overrides)
        return self.applier.deploy(program) if refresh is None else self.applier.apply(program, refresh=refresh)

    def service(self, role: str) -> dict[str, Any]:
        found = self.applier.find(SERVICE, f"{APP}-{role}")
        assert found is not None, f"the {role} service is gone"
        return found

    def tasks(self, role: str) -> list[dict[str, Any]]:
        """Running tasks of a service (desired and actual state running)."""
        tasks = self.api.tasks(filters={"service": self.service(role)["ID"], "desired-state": "running"})
        return [t for t in tasks if t["Status"]["State"] == "running"]

    def node_names(self) -> dict[str, str]:
        """Swarm node id -> node (container) name."""
        return {n["ID"]: n["Description"]["Hostname"] for n in self.api.nodes()}

    def nodes_of(self, role: str) -> list[str]:
        """The node of every running task of a service (one entry per task)."""
        names = self.node_names()
        return sorted(names[t["NodeID"]] for t in self.tasks(role))

    def placement(self) -> dict[str, list[str]]:
        return {role: self.nodes_of(role) for role in ROLES}

    def wait_edge_sees_l7(self, entry: Node, timeout: float = 60.0) -> float:
        """Seconds until the one edge task on ``entry`` resolves every running L7 task by name.

        A node back from a power loss gets a new edge task, and its Docker DNS view
        of the L7 tier fills in over the following seconds: in one CI run an edge
        that knew only one L7 task answered 504 when that task's node died."""
        started = time.monotonic()
        names = self.node_names()
        query = ["getent", "ahostsv4", f"tasks.{l7_tier_name(APP)}"]
        # The edge resolves the tier on the network they share.
        edge_network = self.applier.find(NETWORK, edge_network_name(APP))
        assert edge_network is not None, "the edge network is gone"

        def settled() -> bool | None:
            edges = [t for t in self.tasks("edge") if names[t["NodeID"]] == entry.name]
            if len(edges) != 1:
                return None
            api = entry.api(timeout=30)
            run = api.exec_create(edges[0]["Status"]["ContainerStatus"]["ContainerID"], query)
            output = api.exec_start(run["Id"]).decode()
            seen = {line.split()[0] for line in output.splitlines() if line.strip()}
            l7 = {address for task in self.tasks("nginx") for address in overlay_addresses(task, edge_network["Id"])}
            return True if seen == l7 else None

        wait_until(f"the edge on {entry.name} resolving every L7 task", settled, timeout)
        return time.monotonic() - started

    def wait_entry_point(self, entry: Node) -> float:
        """Seconds until ``entry`` is a whole entry point: it answers from every real
        task, and its live edge resolves every L7 task.

        Right after a node's restart the manager can still list its dead edge
        task as running; only its answers and a live container tell."""
        answering_s = wait_answering(entry)
        resolving_s = self.wait_edge_sees_l7(entry)
        print(
            f"{entry.name}: answering from every real task after {answering_s:.1f}s,"
            f" its edge resolving every L7 task {resolving_s:.1f}s later",
            flush=True,
        )
        return answering_s + resolving_s

    def edge_start_gate(self, entry: Node) -> tuple[int, int]:
        """What the start gate of the edge running on ``entry`` logged: (L7 tasks known, seconds waited)."""
        names = self.node_names()
        (edge,) = [t for t in self.tasks("edge") if names[t["NodeID"]] == entry.name]
        log = entry.api(timeout=30).logs(edge["Status"]["ContainerStatus"]["ContainerID"]).decode(errors="replace")
        found = gate_waited(log)
        assert found is not None, f"no start gate line in the log of the edge on {entry.name}: {log[-2000:]}"
        return found

    def hostnames(self) -> dict[str, str]:
        """Task hostname (app-real-<slot>) -> the node running that task now."""
        names = self.node_names()
        return {f"app-{role}-{t['Slot']}": names[t["NodeID"]] for role in POOL_ROLES for t in self.tasks(role)}

    def wait_settled(self, role: str, image: str, replicas: int, timeout: float = 120.0) -> None:
        """Until Swarm has finished rolling the pool out to ``image`` (a registry name such as ``szd-testapp:v1``)."""
        wait_for_rollout(self.api, self.service(role)["ID"], self.registry.ref(image), replicas, timeout)

    def wait_tasks(
        self, role: str, count: int, away_from: str | None = None, on: str | None = None, timeout: float = 90.0
    ) -> float:
        """Seconds until ``count`` tasks of ``role`` run, none on node ``away_from``, one on node ``on``."""
        started = time.monotonic()
        while True:
            nodes = self.nodes_of(role)
            if len(nodes) >= count and (away_from is None or away_from not in nodes) and (on is None or on in nodes):
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{role}: tasks on {nodes} after {timeout:g}s (want {count}, not {away_from})")
            time.sleep(0.25)

    def wait_off(self, node: str, counts: dict[str, int], since: float, timeout: float = 90.0) -> dict[str, float]:
        """Seconds from ``since`` (time.time()) until each role in ``counts`` ran that many tasks, none on ``node``."""
        done: dict[str, float] = {}
        while True:
            for role in counts.keys() - done.keys():
                nodes = self.nodes_of(role)
                if len(nodes) >= counts[role] and node not in nodes:
                    done[role] = round(time.time() - since, 1)
            if len(done) == len(counts):
                return {role: done[role] for role in counts}
            if time.time() - since > timeout:
                placement = {role: self.nodes_of(role) for role in counts}
                raise AssertionError(f"tasks still on {node} or missing after {timeout:g}s: {placement}")
            time.sleep(0.25)


def wait_answering(entry: Node, hostnames: int = 2, timeout: float = 60.0) -> float:
    """Seconds until plain GETs through ``entry`` have been answered by ``hostnames`` different real tasks.

    A container's first connection to a task on another node can take about a
    second (its address not yet gossiped): the scenarios start their load once
    the entry point reaches every real task."""
    started = time.monotonic()
    seen: set[str] = set()
    while len(seen) < hostnames:
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{entry.name}: only {sorted(seen)} answered after {timeout:g}s")
        try:
            response = requests.get(url(entry), timeout=5)
            if response.ok and (host := response.text.split(",", 1)[0]).startswith("app-real-"):
                seen.add(host)
        except requests.RequestException:
            time.sleep(0.25)
    return time.monotonic() - started


def versions(entry: Node, count: int = 10) -> set[str]:
    out = set()
    for _ in range(count):
        response = requests.get(url(entry), timeout=5)
        response.raise_for_status()
        out.add(response.text.rsplit("version : ", 1)[-1].strip())
    return out


# HTTPS through a load balancer passing TLS through (TCP mode): 2 clients, half of them on
# ~0.1 s requests. A connection ends at the L7 tier half of edgeDrain into it, so the
# balancer's checks (0.75 s) and twice the longest request fit in the other half.
HTTPS_CLIENTS = 2
HTTPS_SLOW_PATH = "/100"


TLS_NAME = "localhost"  # what the scenarios' certificate is for, and the HTTPS clients check


class Load(ProbeLoad):
    """The probe's load through one node's entry point, or through a load balancer in front of them all;
    with ``ca_file``, HTTPS through the load balancer's TLS port."""

    def __init__(
        self, entry: Node | LoadBalancer, timeout: float = CLIENT_TIMEOUT_S, ca_file: str | None = None
    ) -> None:
        options = load_options(url(entry) if isinstance(entry, Node) else entry.url, timeout)
        if ca_file is not None:
            assert isinstance(entry, LoadBalancer), entry
            options = dataclasses.replace(
                options,
                url=entry.tls_url(TLS_NAME),
                ca_file=ca_file,
                concurrency=HTTPS_CLIENTS,
                slow_path=HTTPS_SLOW_PATH,
            )
        super().__init__(options)
        self.entry = entry


def by_pool(result: ProbeResult) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for hostname, n in result.by_pool.items():
        counts[role_of_hostname(hostname) or hostname] += n
    return dict(counts)


def by_node(result: ProbeResult, hostnames: dict[str, str]) -> dict[str, int]:
    """Answers per node, each task hostname counted on the node that runs it at the end
    (a slot's task replaced on another node meanwhile counts there: "(gone)" when none runs);
    an answer no app task gave (the L7 tier's redirect to HTTPS) is counted on none."""
    counts: Counter[str] = Counter()
    for hostname, n in result.by_pool.items():
        if role_of_hostname(hostname) is not None:
            counts[hostnames.get(hostname, "(gone)")] += n
    return dict(sorted(counts.items()))


def print_figures(
    scenario: str, load: Load, hostnames: dict[str, str], seconds: float | None = None, **extra: object
) -> dict[str, object]:
    result = load.result
    figures = {
        "scenario": scenario,
        "entry": load.entry.name,
        "sent": result.sent,
        "failed": result.failed,
        "failed_by_kind": result.failures_by_kind,
        "by_pool": by_pool(result),
        "by_node": by_node(result, hostnames),
        "seconds": None if seconds is None else round(seconds, 1),
        **extra,
    }
    print(f"\n=== {scenario}\nFIGURES {json.dumps(figures)}\n{format_summary(result)}", flush=True)
    record_measurement(SECTION, f"FIGURES {json.dumps(figures)}")
    return figures


def slowest_answer_s(load: Load) -> float:
    """The longest a client waited for an answer: a rescued request waited for nginx to find out."""
    slowest_ms = load.result.latency_ms(100)
    assert slowest_ms is not None, "no request was answered"
    return round(slowest_ms / 1000, 1)


# An L7 access-log line (nginx/l7_tier.conf.j2's upstream_log) worth showing next to a failure.
UNUSUAL_ACCESS = re.compile(r'" (?!200 )\d{3} |request_time=(?:[2-9]|\d{2,})\.')


# dockerd complains of the missing IPVS whenever a task's sandbox is set up: no IPVS here.
IPVS_NOISE = re.compile(r"ipvs|ip_vs|net\.ipv4\.vs\.")
# dockerd --debug: a rule for the published port changed, or a new endpoint's
# address still carried connections (another endpoint had that address).
PORT_EVIDENCE = re.compile(rf"--dport {PORT}\b|DeleteConntrackEntries purged")


def task_addresses(d: Deployment) -> dict[str, str]:
    """Overlay address -> role@node of every running task, to read the upstream addresses nginx logs."""
    names = d.node_names()
    return {
        address: f"{role}@{names[task['NodeID']]}"
        for role in ROLES
        for task in d.tasks(role)
        for address in overlay_addresses(task)
    }


def log_window(load: Load) -> tuple[int, int]:
    """The load's time with a margin, as `since` and `until` for container logs."""
    return int(load.result.started_at - 1), int(load.result.started_at + load.result.duration_s + 2)


def explain(d: Deployment, load: Load) -> str:
    """A probe run's failures, the nginx tiers' complaints and their unusual answers (not 200, or
    2 s or more), for an assertion message."""
    failures = ", ".join(f"{t:.3f}s {kind}" for t, kind in load.result.failures[:10])
    lines: list[str] = []
    names = d.node_names()
    since, until = log_window(load)
    for role in ("edge", "nginx"):
        # Each running task's container log, read on its own node: `service logs`
        # never returns once a service has tasks whose containers are gone. The
        # whole run's log: the L7 tier logs every request, so a tail would hold
        # only the last second or two.
        for task in d.tasks(role):
            node = d.cluster.node(names[task["NodeID"]])
            try:
                raw = node.api(timeout=30).logs(
                    task["Status"]["ContainerStatus"]["ContainerID"],
                    since=since,
                    until=until,
                )
                text = raw.decode(errors="replace")
            except (docker.errors.DockerException, requests.RequestException) as error:
                text = f"(no log from {node.name}: {error}) [error]"
            lines += [
                f"{role}@{node.name}: {line}"
                for line in text.splitlines()
                if "[error]" in line or "[warn]" in line or UNUSUAL_ACCESS.search(line)
            ]
    return (
        f"{load.result.failed} failed ({failures}); tasks now: {task_addresses(d)}; nginx said:\n"
        + "\n".join(lines[-40:])
        + f"\n{load.entry.name}, the entry point:\n"
        + "\n".join(entry_evidence(d, load) if isinstance(load.entry, Node) else load.entry.evidence())
    )


def entry_evidence(d: Deployment, load: Load) -> list[str]:
    """For clients refused or reset at a node's port: that node's edge tasks in any
    state, and what its dockerd warned of during the load, with its iptables calls
    on the port and its conntrack purges (the node container's output is dockerd's log)."""
    assert isinstance(load.entry, Node)
    names = d.node_names()
    since, until = log_window(load)
    lines = [
        f"edge task {t['ID'][:12]} created {t['CreatedAt']}: {t['Status']['State']} at {t['Status']['Timestamp']}"
        f" (desired {t['DesiredState']}) {t['Status'].get('Err', '')}".rstrip()
        for t in d.api.tasks(filters={"service": d.service("edge")["ID"]})
        if names.get(t["NodeID"]) == load.entry.name
    ]
    log = host_api().logs(load.entry.name, since=since, until=until).decode(errors="replace")
    lines += [
        line
        for line in log.splitlines()
        if ("level=warning" in line or "level=error" in line or PORT_EVIDENCE.search(line))
        and not IPVS_NOISE.search(line)
    ][-30:]
    return lines
