"""A real 3-node swarm on this machine: three Docker-in-Docker nodes on a bridge network.

Each node is a container of ``szd-node:sid`` (``scripts/provision.sh
cluster-image``) running its own dockerd, reachable from here on
``tcp://<address>:2375``; the three form a swarm of three managers (one may
fail and the other two keep quorum), labelled ``zone=a/b/c``. The recipe and
its work-arounds are the ones measured in the platform notes ("A multi-node
swarm on one machine"): no ``--privileged`` (its capability set cannot be
applied here), ``--tmpfs /run`` (a killed node's stale pid file would stop its
dockerd from starting again), a volume per node for /var/lib/docker. Every node pulls the images from the
test registry on the host (``provision.sh registry``), trusting its CA, as
the nodes of a production swarm pull from theirs.

Everything is named ``szd-node-*``/``szd-cluster`` and labelled ``szd.cluster``:
``teardown`` removes exactly that, and nothing of the host's own swarm.
Every wait is on a condition (dockerd answers, nodes Ready), never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import docker
from docker.errors import APIError, DockerException, NotFound
from docker.types import IPAMConfig, IPAMPool, Mount

from engine_standin.swarm_env import LocalRegistry, docker_ready

NETWORK = "szd-cluster"
# A subnet nothing here uses: not Docker's default bridge pools (172.17-31/16,
# 192.168/16), not the overlays' (10.0.0.0/24 ingress, 10.240/10.25x stacks),
# not the host's own (192.0.2.0/24).
SUBNET = "10.199.0.0/24"
GATEWAY = "10.199.0.1"
LABEL = "szd.cluster"
NODE_IMAGE = "szd-node:sid"
# What the cluster stack deploys (tests/cluster/stack.py): loaded into every node.
PROVISION = "bash scripts/provision.sh all  (or: make provision; the node image alone: provision.sh cluster-image)"
SWARM_PORT = 2377
DOCKER_PORT = 2375
# Swarm's default, which docs/multi-node.md advises: a dead node is marked down
# after 3 heartbeat periods, each drawn within +-0.5 s (13.5 to 16.5 s;
# swarmkit manager/dispatcher/nodes.go). Shorter is not safe for a live node:
# - an agent whose manager dies without a word waits a period for its next
#   heartbeat and 5 s for the answer before it tries another manager
#   (agent/session.go dispatcherRPCTimeout). With 3 s that was a race against
#   the leader's 7.5 to 10.5 s: a node just back from scenario 3, whose agent
#   talked through the node scenario 4 kills, was marked down and its edge
#   restarted (1 of 8 fresh-clone runs);
# - after a leader change, the new leader gives every node 6 periods to open
#   a session with it (markNodesUnknown, gracePeriodMultiplierUnknown), and an
#   agent that failed while there was no leader waits up to 8 s before it tries
#   again (agent/agent.go maxSessionFailureBackoff). With 1 s, live nodes were
#   marked down in 2 of 5 leader kills here.
HEARTBEAT_NS = 5_000_000_000
# The hosts' own TCP stack, as docs/multi-node.md advises for managers. A
# manager cut off by a power loss leaves its peers' connections to its swarm
# port (2377) open, their unacknowledged raft messages retransmitted with the
# timeout doubling each time: with Linux's default of 15 retransmissions,
# seen with `ss -ti` here after 65 s, one peer's next try was 39 s away (rto
# 52 s), and until it reaches the rebooted node, whose kernel then resets the
# connection, the peer never dials again. The killed leader of scenario 5
# answered on its API after 22 s (dockerd waits 20 s for its swarm part) and
# was Ready after 67 and 69 s in two runs (2.3 s with this setting). With 6 (((2 << 6) - 1) x 200 ms = 25 s, then the
# connection is given up and redialled, within 8 s: the raft transport's
# gRPC backoff), a rebooted manager waits for no old connection.
HOST_SYSCTLS = {"net.ipv4.tcp_retries2": "6"}
# The new leader's log line for a node that missed that grace.
MISSED_GRACE = re.compile(r'heartbeat expiration for node (\w+) in state \\"unknown\\"')

T = TypeVar("T")


class ClusterError(Exception):
    """The cluster could not be set up, or a node did not come back."""


@dataclass(frozen=True)
class Node:
    name: str  # container name, hostname and swarm node hostname
    address: str
    zone: str

    @property
    def url(self) -> str:
        return f"tcp://{self.address}:{DOCKER_PORT}"

    def api(self, timeout: int = 60) -> docker.APIClient:
        """The node's own Docker API (version negotiated: the nodes run a newer Engine than the host)."""
        return docker.APIClient(base_url=self.url, version="auto", timeout=timeout)


NODES = tuple(Node(f"szd-node-{i}", f"10.199.0.{10 + i}", zone) for i, zone in enumerate("abc", start=1))


def host_api() -> docker.APIClient:
    return docker.from_env(timeout=120).api


def cluster_ready() -> tuple[bool, str]:
    """(True, "") when Docker and the node image are here (the registry: docker_ready); else what is missing."""
    try:
        api = host_api()
        api.ping()
    except DockerException as error:
        return False, f"a running Docker daemon ({error})"
    if not api.images(name=NODE_IMAGE):
        return False, f"the node image {NODE_IMAGE}"
    return docker_ready()


def teardown(api: docker.APIClient | None = None) -> None:
    """Remove the node containers, their volumes and the network: whatever a run (or a killed one) left."""
    api = api or host_api()
    names = {node.name for node in NODES}
    containers = {c["Id"] for c in api.containers(all=True, filters={"label": LABEL})} | names
    for container in containers:  # by name too: one whose label was lost
        with contextlib.suppress(NotFound):
            api.remove_container(container, force=True, v=True)
    volumes = api.volumes(filters={"label": LABEL}).get("Volumes") or []
    for volume in {v["Name"] for v in volumes} | names:
        with contextlib.suppress(NotFound):
            api.remove_volume(volume, force=True)
    for network in api.networks(names=[NETWORK]):
        if network["Name"] == NETWORK:
            with contextlib.suppress(NotFound):
                api.remove_network(network["Id"])


def leftovers(api: docker.APIClient | None = None) -> list[str]:
    """What of the cluster is still on the host: containers, volumes and networks (empty after ``teardown``)."""
    api = api or host_api()
    found = [f"container {c['Names'][0].lstrip('/')}" for c in api.containers(all=True, filters={"label": LABEL})]
    found += [f"volume {v['Name']}" for v in api.volumes(filters={"label": LABEL}).get("Volumes") or []]
    found += [f"network {n['Name']}" for n in api.networks(names=[NETWORK]) if n["Name"] == NETWORK]
    return found


def _create_network(api: docker.APIClient) -> None:
    ipam = IPAMConfig(pool_configs=[IPAMPool(subnet=SUBNET, gateway=GATEWAY)])
    api.create_network(NETWORK, driver="bridge", ipam=ipam, labels={LABEL: "1"}, check_duplicate=True)


def _create_node(api: docker.APIClient, node: Node, registry: LocalRegistry) -> None:
    api.create_volume(node.name, labels={LABEL: "1"})
    host_config = api.create_host_config(
        # Not --privileged: its capability set includes CAP_SYS_RESOURCE, which the
        # host's bounding set lacks ("unable to apply caps"). Everything else it gives:
        cap_add=["ALL"],
        cap_drop=["SYS_RESOURCE"],
        security_opt=["seccomp=unconfined", "apparmor=unconfined"],
        device_cgroup_rules=["a *:* rwm"],
        tmpfs={"/run": ""},
        sysctls=HOST_SYSCTLS,
        binds={node.name: {"bind": "/var/lib/docker", "mode": "rw"}},
        # The node's dockerd trusts the test registry (read at each pull). A mount, not a
        # bind: the registry's host:port in the path would split a bind's "src:dst:mode".
        mounts=[Mount(f"/etc/docker/certs.d/{registry.address}/ca.crt", str(registry.ca_file), "bind", read_only=True)],
        network_mode=NETWORK,
    )
    # --security-opt systempaths=unconfined, which the CLI sends as empty path lists:
    # /proc and /sys neither masked nor read-only.
    host_config["MaskedPaths"] = []
    host_config["ReadonlyPaths"] = []
    networking = {"EndpointsConfig": {NETWORK: api.create_endpoint_config(ipv4_address=node.address)}}
    api.create_container(
        NODE_IMAGE,
        name=node.name,
        hostname=node.name,
        labels={LABEL: "1"},
        # Debug logs every iptables call and every conntrack purge: what a port that
        # refused connections for a moment needs to be explained (tests/cluster/stack.py).
        command=["--debug"],
        host_config=host_config,
        networking_config=networking,
        detach=True,
    )
    api.start(node.name)


def wait_until(what: str, check: Callable[[], T | None], timeout: float, poll: float = 0.25) -> T:
    """Poll ``check`` until it returns something other than None (exceptions count as not yet)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = check()
            if result is not None:
                return result
        except (DockerException, OSError) as error:
            last_error = error
        if time.monotonic() > deadline:
            raise ClusterError(
                f"{what}: not after {timeout:g}s" + (f" (last error: {last_error})" if last_error else "")
            )
        time.sleep(poll)


def _node_logs(node: Node, lines: int = 20) -> str:
    try:
        return host_api().logs(node.name, tail=lines).decode(errors="replace")
    except DockerException as error:
        return f"(no logs: {error})"


def wait_docker(node: Node, timeout: float = 90.0) -> float:
    """Seconds until the node's dockerd answers; fails early (with its log) when the node container stopped."""
    started = time.monotonic()
    host = host_api()

    def answers() -> bool | None:
        if not host.inspect_container(node.name)["State"]["Running"]:
            raise ClusterError(f"{node.name} stopped while starting dockerd")
        try:
            node.api(timeout=5).ping()
        except (DockerException, OSError):
            return None
        return True

    try:
        wait_until(f"{node.name}: dockerd answers on {node.url}", answers, timeout)
    except ClusterError as error:
        raise ClusterError(f"{error}\n{_node_logs(node)}") from None
    return time.monotonic() - started


def _in_parallel(action: Callable[[Node], T], nodes: list[Node]) -> list[T]:
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        return list(pool.map(action, nodes))


@dataclass
class Cluster:
    """The three nodes, once up: their APIs, and what the scenarios do to them."""

    registry: LocalRegistry
    nodes: tuple[Node, ...] = NODES
    setup_s: float = 0.0

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    # -- set-up ------------------------------------------------------------------------

    def up(self) -> None:
        """Network, nodes, swarm (node 1 inits, the others join as managers), zone labels."""
        started = time.monotonic()
        api = host_api()
        _create_network(api)
        for node in self.nodes:
            _create_node(api, node, self.registry)
        _in_parallel(wait_docker, list(self.nodes))
        first, *others = self.nodes
        first_api = first.api()
        first_api.init_swarm(
            advertise_addr=first.address,
            listen_addr=f"0.0.0.0:{SWARM_PORT}",
            swarm_spec=first_api.create_swarm_spec(dispatcher_heartbeat_period=HEARTBEAT_NS),
        )
        token = first_api.inspect_swarm()["JoinTokens"]["Manager"]
        for node in others:  # one at a time: each join is a Raft membership change
            node.api().join_swarm(
                [f"{first.address}:{SWARM_PORT}"],
                token,
                listen_addr=f"0.0.0.0:{SWARM_PORT}",
                advertise_addr=node.address,
            )
        for node in self.nodes:
            self.wait_ready(node, via=first)
        for swarm_node in first_api.nodes():
            spec = swarm_node["Spec"]
            zone = self.node(swarm_node["Description"]["Hostname"]).zone
            spec["Labels"] = {**(spec.get("Labels") or {}), "zone": zone}
            first_api.update_node(swarm_node["ID"], swarm_node["Version"]["Index"], spec)
        self.setup_s = time.monotonic() - started

    # -- what the scenarios look at -------------------------------------------------------

    def swarm_nodes(self, via: Node) -> dict[str, dict[str, Any]]:
        """Node name -> the swarm's node object, as one manager sees it."""
        return {n["Description"]["Hostname"]: n for n in via.api(timeout=10).nodes()}

    def swarm_node_id(self, node: Node, via: Node) -> str:
        return str(self.swarm_nodes(via)[node.name]["ID"])

    def wait_ready(self, node: Node, via: Node, timeout: float = 90.0) -> float:
        """Seconds until ``via`` sees ``node`` Ready, and reachable as a manager."""
        started = time.monotonic()

        def ready() -> bool | None:
            seen = self.swarm_nodes(via).get(node.name)
            if seen is None or seen["Status"]["State"] != "ready":
                return None
            if (seen.get("ManagerStatus") or {}).get("Reachability") != "reachable":
                return None
            return True

        wait_until(f"{node.name} ready in the swarm as {via.name} sees it", ready, timeout)
        return time.monotonic() - started

    def wait_down(self, node: Node, via: Node, timeout: float = 60.0) -> float:
        """Seconds until ``via`` sees ``node`` down."""
        started = time.monotonic()
        wait_until(
            f"{node.name} marked down by {via.name}",
            lambda: True if self.swarm_nodes(via)[node.name]["Status"]["State"] == "down" else None,
            timeout,
        )
        return time.monotonic() - started

    def leader(self, via: Node) -> Node:
        for name, seen in self.swarm_nodes(via).items():
            if (seen.get("ManagerStatus") or {}).get("Leader"):
                return self.node(name)
        raise ClusterError(f"{via.name} knows no leader")

    def wait_leader(self, via: Node, timeout: float = 60.0) -> Node:
        """The leader once ``via`` knows one that answers (after an election)."""

        def known() -> Node | None:
            try:
                leader = self.leader(via)
            except ClusterError:
                return None
            return leader if self.is_running(leader) else None

        return wait_until(f"a new leader as {via.name} sees it", known, timeout)

    def marked_down_by_new_leader(self, leader: Node, since: float) -> set[str]:
        """Nodes ``leader`` marked down since it took over because they did not open a session with it in time."""
        logs = host_api().logs(leader.name, since=int(since)).decode(errors="replace")
        names = {seen["ID"]: name for name, seen in self.swarm_nodes(via=leader).items()}
        return {names.get(node_id, node_id) for node_id in MISSED_GRACE.findall(logs)}

    def set_availability(self, node: Node, availability: str, via: Node) -> None:
        """`docker node update --availability drain|active|pause`."""
        api = via.api()
        seen = self.swarm_nodes(via)[node.name]
        spec = seen["Spec"]
        spec["Availability"] = availability
        api.update_node(seen["ID"], seen["Version"]["Index"], spec)

    # -- failures -------------------------------------------------------------------------

    def is_running(self, node: Node) -> bool:
        try:
            return bool(host_api().inspect_container(node.name)["State"]["Running"])
        except NotFound:
            return False

    def kill(self, node: Node) -> float:
        """The node loses its network, then `docker kill` (SIGKILL to its init): a power loss.

        Killed alone, the node's processes usually close their sockets (FIN or RST)
        before its network goes, and their peers learn at once. Cut off first, it
        closes nothing that anyone sees: every connection there dies silently, the
        case the nginx tiers have to find out by themselves. Returns the time it
        went silent.
        """
        pid = host_api().inspect_container(node.name)["State"]["Pid"]
        cut = subprocess.run(
            ["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "link", "set", "eth0", "down"],
            capture_output=True,
            text=True,
        )
        silent_at = time.time()
        if cut.returncode != 0:
            raise ClusterError(f"{node.name}: cannot cut its network (needs root): {cut.stderr.strip()}")
        host_api().kill(node.name)
        return silent_at

    def start(self, node: Node) -> float:
        """Power a killed node on again; returns when (monotonic) it was started."""
        try:
            host_api().start(node.name)
        except APIError as error:
            raise ClusterError(f"{node.name} does not start again: {error}") from None
        return time.monotonic()

    def wait_back(self, node: Node, via: Node, started: float) -> tuple[float, float]:
        """Seconds from ``started`` until the node's dockerd answers, and until ``via`` sees it Ready."""
        wait_docker(node)
        docker_s = time.monotonic() - started
        self.wait_ready(node, via=via)
        return docker_s, time.monotonic() - started
