"""What the edge and the L7 tier cost: the latency the edge and the L7 tier add, and the most
requests/s each path sustains on this machine before errors.

The `dev` stack is deployed once (as in setup (c)); then every path gets the same
load generator with the same load, started from the same place: the task of a
throw-away service on both of the stack's overlay networks (the edge network
admits services only, no one-off container), running this host's `hey`
and `wrk` (Debian's packages, bind-mounted together with the libraries they link
besides glibc, which the container's Debian sid supplies). Every path therefore
starts in the same network namespace and on the same overlay, and the paths
differ only in the hops they take:

- tier: load generator -> the edge task (edge network IP, port 80) -> an L7 task -> an app task;
- l7: load generator -> one L7 task (edge network IP, port 80) -> an app task: splits the edge off;
- app: load generator -> one real app task (app network IP, port 8080), no proxy at all;
- plain: load generator -> two nginx hops with nothing but proxying in their configs -> the
  real tasks, spread as the tier spreads them (bench/plain_hops.py): the floor any two nginx
  hops cost here;
- host: the same tools on the host -> 127.0.0.1:<published port> (Docker's docker-proxy,
  with its default userland proxy) -> the edge -> ...: what a client on this machine
  sees (a different starting place, so in no difference).

Latency: `hey` at a fixed, paced load, in rounds interleaved across the paths.
Throughput: `wrk` (closed loop), the connections stepped up, interleaved across
the paths, until a path's step has errors.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import docker
from docker.errors import APIError, ImageNotFound, NotFound

from bench.load_tools import TOOLS, TierLoad, foreign_libraries, output_tail, parse_hey
from bench.measure import wait_for_real
from bench.plain_hops import PlainHops
from bench.report import Machine
from bench.setups import PREFIX, TIMEOUT_S, ProjectSetup
from bench.tier_figures import Route, measure
from bench.tier_report import TierCostReport
from engine_standin.swarm_env import overlay_addresses
from offline_runner.mock_program import DeclaredProgram
from offline_runner.resource_types import NETWORK, SERVICE
from offline_runner.stack_config import load_stack_config, project_name
from swarm_zero_downtime.nginx.l7_tier import HTTP_PORT
from swarm_zero_downtime.swarm.naming import REAL, edge_name, edge_network_name, l7_tier_name, network_name, pool_name
from tools.render_nginx import edge_config, nginx_config

LOADGEN_NAME = f"{PREFIX}-loadgen"
LOADGEN_LABEL = "szd.bench-helper"
LOADGEN_IMAGE = "szd-base:sid"  # the Debian sid root filesystem every test image is built on
MOUNT_DIR = PurePosixPath("/opt/szdbench")


# --- what the configs say ------------------------------------------------------------


# Since this release nginx keeps idle connections to every upstream block of the
# config without a `keepalive` line (nginx commit 4fbe4b627).
DEFAULT_KEEPALIVE_SINCE = (1, 29, 7)


def upstream_keepalive(config: str, nginx_version: str) -> dict[str, str]:
    """Each upstream block of an nginx config -> how the given nginx keeps idle connections to it."""
    text = re.sub(r"#[^\n]*", "", config)
    only_get = re.search(r"^\s*limit_except\s+GET\s*\{", text, re.M) is not None
    found = {}
    for name, block in re.findall(r"^\s*upstream\s+(\S+)\s*\{(.*?)^\s*\}", text, re.M | re.S):
        explicit = re.search(r"^\s*keepalive\s+(\d+)", block, re.M)
        idle = re.search(r"^\s*keepalive_timeout\s+(\S+)\s*;", block, re.M)
        if explicit is not None:
            kept = "none (`keepalive 0`)" if explicit[1] == "0" else f"up to {explicit[1]} idle per worker"
        elif tuple(int(n) for n in re.findall(r"\d+", nginx_version)[:3]) >= DEFAULT_KEEPALIVE_SINCE:
            kept = f"nginx {nginx_version}'s default, up to 32 idle per worker and location"
        else:
            kept = f"none (nginx {nginx_version} keeps none without `keepalive`)"
        if not kept.startswith("none"):
            kept += f", closed after {idle[1] if idle else '60s'} idle"
            if only_get:
                kept += ", for GET and HEAD (other methods: a connection each, `Connection: close`)"
        found[name] = kept
    return found


# --- the stack and the load generator ----------------------------------------------------


class TierCostBench:
    """Deploys the dev stack and the load generator, finds the routes, removes both again."""

    def __init__(self, client: docker.DockerClient, port: int):
        self.client = client
        self.port = port
        self.setup = ProjectSetup(client.api, port)
        self.overrides: dict[str, object] = {
            **self.setup.overrides,
            "imageTag": "v1",
            "publishMode": "host",
            "endpointMode": "dnsrr",
            # One load generator opens up to 256 connections from one address: the
            # edge's per-address limit, a guard against one client, would answer 429.
            "clientConnectionsPerAddress": 0,
        }
        self.config = load_stack_config("dev", overrides=self.overrides)
        self._container: Any = None
        self.plain_hops = PlainHops(client)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def program(self) -> DeclaredProgram:
        return self.setup.program(self.overrides)

    def deploy(self, program: DeclaredProgram) -> None:
        self.setup.applier.deploy(program)
        wait_for_real(self.url)

    def tear_down(self) -> None:
        """The load generator, then the stack: also what an interrupted run left behind."""
        remove_loadgen(self.client)
        self._container = None
        self.plain_hops.remove()
        self.setup.tear_down()

    def start_loadgen(self) -> None:
        networks = [self._find(NETWORK, name)["Id"] for name in (edge_network_name(PREFIX), network_name(PREFIX))]
        mounts: list[str] = []
        for tool in TOOLS:
            binary = shutil.which(tool)
            if binary is None:
                raise RuntimeError(f"{tool} is not installed: bash scripts/provision.sh load-tools")
            mounts.append(f"{os.path.realpath(binary)}:{MOUNT_DIR / 'bin' / tool}:ro")
            ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=False).stdout
            for library in foreign_libraries(ldd):
                mounts.append(f"{os.path.realpath(library)}:{MOUNT_DIR / 'lib' / PurePosixPath(library).name}:ro")
        try:
            self.client.images.get(LOADGEN_IMAGE)
        except ImageNotFound:
            raise RuntimeError(f"image {LOADGEN_IMAGE} is missing: bash scripts/provision.sh images") from None
        service = self.client.services.create(
            LOADGEN_IMAGE,
            ["sleep", "infinity"],
            name=LOADGEN_NAME,
            networks=networks,
            mounts=mounts,
            env=[f"LD_LIBRARY_PATH={MOUNT_DIR / 'lib'}", f"PATH={MOUNT_DIR / 'bin'}:/usr/bin:/bin"],
            labels={LOADGEN_LABEL: PREFIX},
            stop_grace_period=1_000_000_000,  # sleep ignores SIGTERM: no need to wait 10 s for the kill
        )
        self._container = self.client.containers.get(self._running_container(service.id))
        for tool in TOOLS:  # fails here, not in the middle of a measurement, when a tool cannot run
            code, output = self._container.exec_run(["sh", "-c", f"command -v {tool} && ldd $(command -v {tool})"])
            if code != 0 or b"not found" in output:
                raise RuntimeError(f"{tool} does not run in {LOADGEN_IMAGE}: {output.decode(errors='replace')}")

    def in_container(self, argv: list[str]) -> str:
        code, (out, err) = self._container.exec_run(argv, demux=True)
        text = (out or b"").decode(errors="replace")
        if code != 0:
            raise RuntimeError(
                f"{shlex.join(argv)} exited {code} in {LOADGEN_NAME}: {output_tail(text + (err or b'').decode())}"
            )
        return text

    @staticmethod
    def on_host(argv: list[str]) -> str:
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{shlex.join(argv)} exited {done.returncode}: {output_tail(done.stdout + done.stderr)}")
        return done.stdout

    def routes(self) -> list[Route]:
        edge_network = self._find(NETWORK, edge_network_name(PREFIX))["Id"]
        edge = self._addresses(edge_name(PREFIX), edge_network)
        l7 = self._addresses(l7_tier_name(PREFIX), edge_network)
        app_network = self._find(NETWORK, network_name(PREFIX))
        real = self._addresses(pool_name(PREFIX, REAL), app_network["Id"])
        app_port = int(self.config[f"{project_name()}:appPort"])
        plain = self.plain_hops.start(app_network, [f"{address}:{app_port}" for address in real])
        self._wait_answers(plain)
        return [
            Route("tier", "through the tier", "edge → L7 → app", f"http://{edge[0]}:{HTTP_PORT}/"),
            Route("l7", "one L7 task", "L7 → app", f"http://{l7[0]}:{HTTP_PORT}/"),
            Route("plain", "two plain nginx hops", "nginx → nginx → app (proxying only)", plain),
            Route("app", "straight to one app task", "app", f"http://{real[0]}:{app_port}/"),
            Route("host", "host → published port", f"{host_mapping(self.port)} → edge → L7 → app", self.url, True),
        ]

    def _wait_answers(self, url: str) -> None:
        """Until one request from the load generator gets a 200 there (nginx listens after its container starts)."""
        deadline = time.monotonic() + TIMEOUT_S
        while parse_hey(self.in_container(["hey", "-n", "1", "-c", "1", "-t", "2", url])).statuses.get(200) != 1:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}: no 200 from the load generator after {TIMEOUT_S:g}s")
            time.sleep(0.25)

    def _find(self, type_: str, logical_name: str) -> dict[str, Any]:
        found = self.setup.applier.find(type_, logical_name)
        if found is None:
            raise RuntimeError(f"{type_} {logical_name} is not deployed")
        return found

    def _running_container(self, service_id: str) -> str:
        """The container of the service's one task, once it runs (the image is local: no pull)."""
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            for task in self.client.api.tasks(filters={"service": service_id}):
                if task["Status"]["State"] == "running":
                    return str(task["Status"]["ContainerStatus"]["ContainerID"])
                if task["Status"]["State"] in ("failed", "rejected"):
                    raise RuntimeError(f"{LOADGEN_NAME}: {task['Status'].get('Err') or task['Status']['State']}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{LOADGEN_NAME}: no running task after {TIMEOUT_S:g}s")
            time.sleep(0.25)

    def _addresses(self, logical_name: str, network_id: str) -> list[str]:
        """Overlay IPs of the service's running tasks, in task slot order."""
        service = self._find(SERVICE, logical_name)["ID"]
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            tasks = self.client.api.tasks(filters={"service": service, "desired-state": "running"})
            running = sorted(
                (t for t in tasks if t["Status"]["State"] == "running"), key=lambda t: (t.get("Slot", 0), t["ID"])
            )
            addresses = [address for t in running for address in overlay_addresses(t, network_id)]
            if addresses:
                return addresses
            if time.monotonic() > deadline:
                raise RuntimeError(f"{logical_name}: no running task on the overlay after {TIMEOUT_S:g}s")
            time.sleep(0.25)


def host_mapping(port: int) -> str:
    """How a connection to 127.0.0.1:<published port> reaches the edge's container."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if is_docker_proxy(cmdline.read_bytes().decode(errors="replace").split("\0"), port):
                return "docker-proxy (Docker's userland proxy)"
    return "Docker's port mapping (NAT)"


def is_docker_proxy(argv: Sequence[str], port: int) -> bool:
    """Whether a process's arguments are those of the docker-proxy that serves the host port."""
    if not argv or not argv[0].endswith("docker-proxy") or "-host-port" not in argv:
        return False
    at = argv.index("-host-port") + 1
    return at < len(argv) and argv[at] == str(port)


def remove_loadgen(client: docker.DockerClient) -> None:
    """Also waits for its container to go: until then it holds on to the stack's networks."""
    for service in client.services.list(filters={"label": f"{LOADGEN_LABEL}={PREFIX}"}):
        with contextlib.suppress(NotFound, APIError):
            service.remove()
    deadline = time.monotonic() + TIMEOUT_S
    while client.containers.list(all=True, filters={"label": f"com.docker.swarm.service.name={LOADGEN_NAME}"}):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{LOADGEN_NAME}: its container is still there after {TIMEOUT_S:g}s")
        time.sleep(0.25)


# --- one run ------------------------------------------------------------------------------


def run_tier_cost(
    client: docker.DockerClient, port: int, machine: Machine, date: str, command: str, load: TierLoad | None = None
) -> TierCostReport:
    """Deploy, measure every route, tear down (also when this raises or is interrupted)."""
    load = load or TierLoad()
    bench = TierCostBench(client, port)
    started = time.monotonic()
    try:
        bench.tear_down()  # leftovers of an interrupted run
        program = bench.program()
        keepalive = {
            "edge → L7": upstream_keepalive(edge_config(program), machine.nginx),
            "L7 → app": upstream_keepalive(nginx_config(program), machine.nginx),
        }
        print("\n=== tier cost: deploying the dev stack", flush=True)
        bench.deploy(program)
        bench.start_loadgen()
        routes = bench.routes()
        for route in routes:
            print(f"route {route.key}: {route.url} ({route.hops})", flush=True)
        figures = measure(routes, {False: bench.in_container, True: bench.on_host}, load, _log)
    finally:
        bench.tear_down()
    return TierCostReport(
        figures=figures,
        load=load,
        keepalive=keepalive,
        overrides=bench.overrides,
        machine=machine,
        date=date,
        command=command,
        elapsed_s=time.monotonic() - started,
        load_generator=LOAD_GENERATOR_NOTE,
    )


def _log(message: str) -> None:
    print(message, flush=True)


LOAD_GENERATOR_NOTE = (
    f"the host's Debian `hey` and `wrk` (dynamically linked: hey to glibc only, wrk also to LuaJIT and"
    f" OpenSSL), bind-mounted read-only into the task of a throw-away `{LOADGEN_IMAGE}` service on the stack's two"
    f" overlay networks with the libraries they link besides glibc (which the container's newer glibc provides), so"
    " the load for every path leaves from the same place; only the host row runs them on the host itself."
)
