"""What the end-to-end scenarios use: the e2e stack, the load, the figures they print.

The stack is ``dev`` plus ``E2E_OVERRIDES`` (test images, a free port, short
timings), applied by ``swarm_applier`` in place of `pulumi up`. Every image is
pulled from the test registry, as production pulls from one: the program pins
each tag to its digest there (pulumi-docker's getRegistryImage, modelled by
``engine_standin.swarm_applier.registry``), and the swarm pulls it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import docker
import requests

from engine_standin.swarm_applier import SERVICE, SERVICE_CONFIG, ApplyReport, SwarmApplier
from engine_standin.swarm_env import LocalRegistry
from offline_runner.mock_program import DeclaredProgram
from swarm_zero_downtime.swarm.rollout_gate import wait_for_rollout
from tests.conftest import record_measurement
from tests.support.probe_load import Load as ProbeLoad
from tools.probe import ProbeOptions, ProbeResult, format_summary
from tools.probe.websockets import WebSocketOptions, WebSocketResult, WebSocketWatch, format_websockets

STACK = "e2e"
PORT = 18080
HTTPS_PORT = 18443
MOVED_PORT = 18082  # publishedPort after scenario 14's move
URL = f"http://127.0.0.1:{PORT}/"
HTTPS_URL = f"https://localhost:{HTTPS_PORT}/"

# Test settings only; the assertions never depend on them being generous.
E2E_OVERRIDES: dict[str, object] = {
    "appName": "szde2e",  # keeps clear of anyone's `make deploy` on the same swarm
    # Likewise: overlay networks on one swarm need subnets of their own.
    "overlaySubnet": "10.250.0.0/24",
    "edgeSubnet": "10.250.1.0/24",
    # Names in the test registry: Deployment.program puts its address in front.
    "appImage": "szd-testapp",
    "imageTag": "v1",
    "nginxImage": "szd-nginx:test",
    "edgeImage": "szd-nginx:test",
    "publishMode": "host",
    "endpointMode": "dnsrr",
    "publishedPort": PORT,
    "httpsPort": HTTPS_PORT,
    "healthCheckStartPeriod": "2s",
    "healthCheckInterval": "1s",
    "healthCheckTimeout": "1s",
    "healthCheckRetries": 2,
    # Above start period + retries x (interval + timeout) = 6 s, the longest a bad task can look fine.
    "updateMonitor": "7s",
    "rollbackMonitor": "7s",
    # Real peers + 1 for 2 and for 3 real tasks (scenario 7 scales to 3): the
    # nginx config stays the same while the pool scales.
    "nginxNextUpstreamTries": 4,
    # The shortest for which the edge's nginx can close its TLS streams before pulumi-docker's
    # delete deadline (nginx/edge.py; scenario 13).
    "stopGracePeriod": "10s",
    "convergeTimeout": "2m",
    # Modest limits and reservations on every service: scenario 1 checks each container runs with the limits.
    "appResources": {"limits": {"cpus": "1", "memory": "128M"}, "reservations": {"cpus": "0.05", "memory": "16M"}},
    "nginxResources": {"limits": {"cpus": "1", "memory": "64M"}, "reservations": {"cpus": "0.05", "memory": "16M"}},
    "edgeResources": {"limits": {"cpus": "0.5", "memory": "64M"}, "reservations": {"cpus": "0.05", "memory": "16M"}},
}
# What Docker gives each running container of a role for those limits: HostConfig (NanoCpus, Memory).
CONTAINER_LIMITS = {
    "real": (1_000_000_000, 128 * 1024**2),
    "backup": (1_000_000_000, 128 * 1024**2),
    "nginx": (1_000_000_000, 64 * 1024**2),
    "edge": (500_000_000, 64 * 1024**2),
}

# Set with --secret from the first deploy on: both pools mount it (scenario 3d rotates it).
APP_SECRET = "DB_PASSWORD"
APP_SECRET_VALUE = "e2e-first-Pa55"
E2E_SECRETS: dict[str, str] = {"appSecrets": json.dumps({APP_SECRET: APP_SECRET_VALUE})}

# 4 clients, 2 of them on ~1 s requests, no rate cap.
LOAD = ProbeOptions(url=URL, concurrency=4, slow_path="/1000", slow_share=0.5, timeout=5.0)
# WebSockets held through the edge beside the load (the test app's /ws).
WEBSOCKETS = WebSocketOptions(url=f"{URL}ws", connections=4)
ANSWER = re.compile(r"^(?P<host>[\w-]+), current time : \d+, version : (?P<version>\S+)$")


@dataclass
class Deployment:
    """The e2e stack on the swarm, and what the scenarios need to look at it."""

    api: docker.APIClient
    applier: SwarmApplier
    registry: LocalRegistry
    initial: ApplyReport | None = None

    def program(self, secrets: dict[str, str] | None = None, **overrides: object) -> DeclaredProgram:
        """The program for E2E_OVERRIDES + ``overrides``, images named in the registry (``szd-nginx:next``),
        with E2E_SECRETS + ``secrets``."""
        return self.registry.program(STACK, {**E2E_OVERRIDES, **overrides}, {**E2E_SECRETS, **(secrets or {})})

    def apply(
        self, refresh: bool | None = None, secrets: dict[str, str] | None = None, **overrides: object
    ) -> ApplyReport:
        """`make deploy` (refresh=None: the refresh swarm/refresh.py allows, then `pulumi up`);
        False is a plain `pulumi up`, True `pulumi up --refresh`.

        ``secrets``: keys set with `pulumi config set --secret` (the TLS certificate and key, appSecrets)."""
        program = self.program(secrets, **overrides)
        return self.applier.deploy(program) if refresh is None else self.applier.apply(program, refresh=refresh)

    @contextlib.contextmanager
    def logged(self) -> Iterator[list[str]]:
        """The lines the applier logs while the block runs (the dynamic provider host's stderr among them),
        still printed."""
        lines: list[str] = []
        shown = self.applier.log

        def log(message: str) -> None:
            lines.append(message)
            shown(message)

        self.applier.log = log
        try:
            yield lines
        finally:
            self.applier.log = shown

    def service(self, role: str) -> dict[str, Any] | None:
        """Inspect output of the "real", "backup", "nginx" (L7 tier) or "edge" service; None when it is gone."""
        return self.applier.find(SERVICE, f"{E2E_OVERRIDES['appName']}-{role}")

    def existing(self, role: str) -> dict[str, Any]:
        """Inspect output of a service the scenario needs to be there."""
        service = self.service(role)
        assert service is not None, f"the {role} service is gone"
        return service

    def running_tasks(self, role: str) -> list[dict[str, Any]]:
        service = self.service(role)
        if service is None:
            return []
        tasks = self.api.tasks(filters={"service": service["ID"], "desired-state": "running"})
        return [t for t in tasks if t["Status"]["State"] == "running"]

    def nginx_config(self, role: str = "nginx") -> tuple[str, str]:
        """(id, name) of the config an nginx service ("nginx" or "edge") mounts."""
        (ref,) = self.existing(role)["Spec"]["TaskTemplate"]["ContainerSpec"]["Configs"]
        return ref["ConfigID"], ref["ConfigName"]

    def secret_digests(self, role: str, name: str = APP_SECRET) -> list[str]:
        """What each running task of a pool answers on its own /secret-sha256/NAME (from inside the task:
        through the edge only the real pool answers)."""
        url = f"'http://127.0.0.1:' + os.environ['PORT'] + '/secret-sha256/{name}'"
        query = f"import os, urllib.request; print(urllib.request.urlopen({url}, timeout=5).read().decode())"
        digests = []
        for task in self.running_tasks(role):
            run = self.api.exec_create(task["Status"]["ContainerStatus"]["ContainerID"], ["python3", "-c", query])
            digests.append(self.api.exec_start(run["Id"]).decode().strip())
        return digests

    def task_ids(self, role: str) -> set[str]:
        return {t["ID"] for t in self.running_tasks(role)}

    def config_exists(self, config_id: str) -> bool:
        try:
            self.api.inspect_config(config_id)
            return True
        except docker.errors.NotFound:
            return False

    def managed_configs(self) -> list[str]:
        """Names of the configs the stack's state holds."""
        state = self.applier.state().resources.values()
        return [self.api.inspect_config(r.id)["Spec"]["Name"] for r in state if r.type == SERVICE_CONFIG]

    def nginx_problems(self, since: float) -> list[str]:
        """Both nginx tiers' error lines and non-2xx access lines since an epoch time (for failure messages)."""
        problems = []
        for role in ("edge", "nginx"):
            service = self.service(role)
            if service is None:
                problems.append(f"(no {role} service)")
                continue
            # Each running task's container log, not `service logs`: that one never
            # returned once the service had tasks whose containers were gone.
            lines = []
            for task in self.running_tasks(role):
                raw = self.api.logs(task["Status"]["ContainerStatus"]["ContainerID"], since=int(since), tail=2000)
                lines += raw.decode(errors="replace").splitlines()
            noise = "could not be resolved"  # nginx retries a vanished pool name every few seconds
            problems += [
                f"{role}: {line}"
                for line in lines
                if noise not in line and ("[error]" in line or "[warn]" in line or re.search(r'" [45]\d\d ', line))
            ]
        return problems

    def explain(self, load: Load) -> str:
        """The failures of a probe run with nginx's view of them, for an assertion message."""
        failures = ", ".join(f"{t:.3f}s {kind}" for t, kind in load.result.failures[:10])
        problems = self.nginx_problems(load.result.started_at - 1)[-30:]
        return f"{load.result.failed} failed ({failures}); nginx said:\n" + "\n".join(problems)

    def wait_settled(self, role: str, image: str, replicas: int, timeout: float = 120.0) -> None:
        """Until Swarm has finished rolling the pool out to ``image`` (a registry name such as
        ``szd-testapp:v1``; the program's own gate check)."""
        wait_for_rollout(self.api, self.existing(role)["ID"], self.registry.ref(image), replicas, timeout)

    def pinned(self, image: str) -> str:
        """A registry name (``szd-testapp:v1``) as the program declares it: on the registry, pinned to its digest."""
        ref = self.registry.ref(image)
        return f"{ref}@{self.registry.digest(ref)}"

    def task_images(self, role: str) -> set[str]:
        """The images the service's running tasks run, as registry names (``szd-testapp:v1``), digests dropped."""
        prefix = f"{self.registry.address}/"
        images = {t["Spec"]["ContainerSpec"]["Image"].split("@")[0] for t in self.running_tasks(role)}
        assert all(i.startswith(prefix) for i in images), f"{role} runs an image from outside {prefix}: {images}"
        return {i.removeprefix(prefix) for i in images}

    def push(self, source: str, tag: str) -> str:
        """Push the registry's image ``source`` (repo:tag) again under ``tag`` (a moved tag); its new digest."""
        repository = self.registry.ref(source.split(":")[0])
        self.api.pull(repository, tag=source.split(":")[1], auth_config=self.registry.auth_config)
        self.api.tag(self.registry.ref(source), repository, tag)
        for line in self.api.push(repository, tag=tag, stream=True, decode=True, auth_config=self.registry.auth_config):
            assert "error" not in line, f"docker push {repository}:{tag}: {line}"
        return self.registry.digest(f"{repository}:{tag}")

    def wait_running(self, role: str, replicas: int, gone: Collection[str] = (), timeout: float = 60.0) -> float:
        """Seconds until ``replicas`` tasks of the service run again, none of them one of the ``gone`` task ids."""
        started = time.monotonic()
        while len(running := self.task_ids(role)) < replicas or running & set(gone):
            if time.monotonic() - started > timeout:
                raise AssertionError(f"{role}: fewer than {replicas} running tasks after {timeout:g}s")
            time.sleep(0.25)
        return time.monotonic() - started


@dataclass
class LoadedApply:
    """One `pulumi up` between two steady states under load."""

    report: ApplyReport
    load: Load
    seconds: float

    @property
    def result(self) -> ProbeResult:
        return self.load.result


def apply_under_load(
    d: Deployment,
    settle_s: float,
    ca_file: str | None = None,
    secrets: dict[str, str] | None = None,
    port: int = PORT,
    **overrides: object,
) -> LoadedApply:
    """Load for ``settle_s``, apply ``overrides``, load for ``settle_s`` more (HTTPS when ``ca_file``,
    else HTTP on ``port``)."""
    with Load(ca_file, port) as load:
        time.sleep(settle_s)
        started = time.time()
        report = d.applier.deploy(d.program(secrets, **overrides))
        seconds = time.time() - started
        time.sleep(settle_s)
    return LoadedApply(report, load, seconds)


@dataclass
class HeldWebSockets:
    """WEBSOCKETS held open while the block runs; ``result`` once it has ended."""

    watch: WebSocketWatch = dataclasses.field(default_factory=lambda: WebSocketWatch(WEBSOCKETS))
    result: WebSocketResult | None = None

    def __enter__(self) -> HeldWebSockets:
        self.watch.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.result = self.watch.stop()

    def figures(self, scenario: str) -> dict[str, object]:
        assert self.result is not None, "still held"
        figures = {"scenario": scenario, "connections": WEBSOCKETS.connections, **self.result.to_dict()}
        print(f"\n=== {scenario}\nFIGURES {json.dumps(figures)}\n{format_websockets(self.result)}", flush=True)
        record_measurement("end-to-end on the swarm: what each scenario measured", f"FIGURES {json.dumps(figures)}")
        return figures


def answers(count: int = 20) -> list[tuple[str, str]]:
    """(hostname, version) of ``count`` plain GETs through nginx."""
    out = []
    for _ in range(count):
        response = requests.get(URL, timeout=5)
        response.raise_for_status()
        match = ANSWER.match(response.text.strip())
        assert match, f"unexpected answer {response.text!r}"
        out.append((match["host"], match["version"]))
    return out


class Load(ProbeLoad):
    """The probe's load through the edge (HTTPS: ``ca_file`` given; HTTP on another ``port``)."""

    def __init__(self, ca_file: str | None = None, port: int = PORT) -> None:
        url = HTTPS_URL if ca_file is not None else f"http://127.0.0.1:{port}/"
        super().__init__(dataclasses.replace(LOAD, url=url, ca_file=ca_file))


def print_figures(
    scenario: str, result: ProbeResult, rollout_s: float | None = None, **extra: object
) -> dict[str, object]:
    figures = {
        "scenario": scenario,
        "sent": result.sent,
        "failed": result.failed,
        "failed_by_kind": result.failures_by_kind,
        "real": result.by_pool.get("real", 0),
        "backup": result.by_pool.get("backup", 0),
        "other": {k: v for k, v in result.by_pool.items() if k not in ("real", "backup")},
        "rollout_s": None if rollout_s is None else round(rollout_s, 1),
        **extra,
    }
    print(f"\n=== {scenario}\nFIGURES {json.dumps(figures)}\n{format_summary(result)}", flush=True)
    record_measurement("end-to-end on the swarm: what each scenario measured", f"FIGURES {json.dumps(figures)}")
    return figures
