"""The three setups under test: how each is deployed, rolled from v1 to v2, and removed.

(a) and (b) are the tutorial's stack, created with the Docker SDK the way
`docker stack deploy -c docker-compose-app-real.yml -c docker-compose-app-backup.yml
-c docker-compose-nginx.yml szdbench` would: services named szdbench_<service>, each
with the network alias <service> (which is how the tutorial's nginx config finds
`webapp-real`), no health check, only the update_config the compose file sets.
(c) is this project's program, applied by the e2e test applier in place of `pulumi up`.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import docker
from docker.errors import NotFound
from docker.types import ContainerSpec, EndpointSpec, Mount, NetworkAttachmentConfig, ServiceMode, TaskTemplate

from engine_standin.swarm_applier import SERVICE, SwarmApplier, remove_network
from engine_standin.swarm_env import destroy_stack, local_registry
from offline_runner.mock_program import DeclaredProgram
from swarm_zero_downtime.swarm.naming import BACKUP as BACKUP_ROLE
from swarm_zero_downtime.swarm.naming import REAL as REAL_ROLE
from swarm_zero_downtime.swarm.naming import pool_name
from swarm_zero_downtime.swarm.rollout_gate import wait_for_rollout

APP_REPO = "szd-testapp"
NGINX_IMAGE = "szd-nginx:test"
NEXT_NGINX_IMAGE = "szd-nginx:next"  # the same nginx, another image: an image change
PREFIX = "szdbench"  # every name this benchmark creates starts with it
REPLICAS = 2  # per pool in every setup: the tutorial's later runs and the dev stack agree
POLL_S = 0.25
TIMEOUT_S = 600.0


class Setup(Protocol):
    key: str
    title: str

    def deploy(self) -> None:
        """v1 everywhere; returns once every task runs."""

    def roll_out(self) -> float:
        """v1 -> v2; returns once Swarm reports every update completed, with the seconds the deploy command took."""

    def tear_down(self) -> None:
        """Removes everything the setup may have created, also after an interrupted run."""


# --- (a) and (b): the tutorial ------------------------------------------------------

STACK_LABEL = "com.docker.stack.namespace"
NETWORK = f"{PREFIX}_nginxdocker-net"
REAL, BACKUP, NGINX = (f"{PREFIX}_{s}" for s in ("webapp-real", "webapp-backup", "nginx"))
NGINX_CONF = "/etc/nginx/conf.d/default.conf"
# The tutorial's compose file for the real service; Swarm defaults for everything else.
TUTORIAL_UPDATE_CONFIG = {"Parallelism": 1, "Delay": 10 * 10**9}

TUTORIAL_UPSTREAM = """\
upstream app-server {
    least_conn;
    server webapp-real:8080 max_fails=1 fail_timeout=2s;
    server webapp-backup:8080 backup;
}
"""

# (b): the same upstream re-resolved at run time, and nothing else changed.
RESOLVING_UPSTREAM = """\
resolver 127.0.0.11 valid=1s;

upstream app-server {
    zone app-server 64k;
    least_conn;
    server webapp-real:8080 max_fails=1 fail_timeout=2s resolve;
    server webapp-backup:8080 backup resolve;
}
"""

TUTORIAL_SERVER = """
server {
    server_name 127.0.0.1;
    error_log  /var/log/nginx/error.log;
    access_log /var/log/nginx/access.log;

    location / {
        proxy_pass http://app-server;
        proxy_set_header X-Real-IP $remote_addr;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header Host $http_host;
    }
}
"""


@dataclass
class TutorialSetup:
    key: str
    title: str
    resolve: bool
    api: docker.APIClient
    port: int
    _conf_dir: Path | None = field(default=None, init=False)

    @property
    def nginx_conf(self) -> str:
        return (RESOLVING_UPSTREAM if self.resolve else TUTORIAL_UPSTREAM) + TUTORIAL_SERVER

    def deploy(self) -> None:
        labels = {STACK_LABEL: PREFIX}
        network = self.api.create_network(NETWORK, driver="overlay", attachable=True, labels=labels)["Id"]
        self._app("webapp-real", "real", network, TUTORIAL_UPDATE_CONFIG)
        self._app("webapp-backup", "backup", network, None)
        _wait_running(self.api, REAL, REPLICAS)
        _wait_running(self.api, BACKUP, REPLICAS)
        # Created last: without `resolve`, nginx exits at start while a name does not
        # resolve yet (stack deploy would restart it until it does), and it must see
        # both real tasks, as it did in the tutorial.
        self._conf_dir = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-"))
        conf = self._conf_dir / "default.conf"
        conf.write_text(self.nginx_conf)
        nginx = TaskTemplate(
            ContainerSpec(NGINX_IMAGE, mounts=[Mount(NGINX_CONF, str(conf), type="bind")]),
            networks=[NetworkAttachmentConfig(network, aliases=["nginx"])],
        )
        self.api.create_service(
            nginx,
            name=NGINX,
            labels=labels,
            # The SDK sends the published port as given: an int, as the API wants (types-docker says str).
            endpoint_spec=EndpointSpec(ports={self.port: (80, "tcp", "host")}),  # type: ignore[dict-item]
        )
        _wait_running(self.api, NGINX, 1)

    def _app(self, service: str, role: str, network: str, update_config: dict | None) -> None:
        task = TaskTemplate(
            ContainerSpec(f"{APP_REPO}:v1", hostname=f"app-{role}-{{{{.Task.Slot}}}}"),
            networks=[NetworkAttachmentConfig(network, aliases=[service])],
        )
        self.api.create_service(
            task,
            name=f"{PREFIX}_{service}",
            labels={STACK_LABEL: PREFIX},
            mode=ServiceMode("replicated", REPLICAS),
            update_config=update_config,
            endpoint_spec=EndpointSpec(mode="dnsrr"),
        )

    def roll_out(self) -> float:
        """`docker service update --image szd-testapp:v2 szdbench_webapp-real`, then wait for Swarm.

        The CLI itself waits for the update to converge (it is not --detach), so
        the command takes as long as the rollout.
        """
        return self._update(REAL, task_template={"ContainerSpec": {"Image": f"{APP_REPO}:v2"}})

    def change_nginx_image(self) -> float:
        """`docker service update --image szd-nginx:next szdbench_nginx`: Swarm's default, stop-first."""
        return self._update(NGINX, task_template={"ContainerSpec": {"Image": NEXT_NGINX_IMAGE}})

    def move_nginx(self, port: int) -> float:
        """`docker service update --publish-rm <port> --publish-add <new port>:80 szdbench_nginx`."""
        # The SDK sends the published port as given: an int, as the API wants (types-docker says str).
        return self._update(NGINX, endpoint_spec=EndpointSpec(ports={port: (80, "tcp", "host")}))  # type: ignore[dict-item]

    def _update(self, name: str, **changes: object) -> float:
        """Like the CLI: the current spec (with Swarm's defaults filled in) with ``changes``, then waits
        until Swarm reports the update completed; the seconds it took."""
        started = time.monotonic()
        service = self.api.inspect_service(name)
        before = (service.get("UpdateStatus") or {}).get("StartedAt")
        self.api.update_service(service["ID"], service["Version"]["Index"], fetch_current_spec=True, **changes)
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            status = self.api.inspect_service(name).get("UpdateStatus") or {}
            if status.get("StartedAt") not in (None, before):
                if status.get("State") == "completed":
                    return time.monotonic() - started
                if status.get("State") != "updating":
                    raise RuntimeError(f"{name}: update {status.get('State')}: {status.get('Message')}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: update not completed after {TIMEOUT_S:g}s ({status})")
            time.sleep(POLL_S)

    def tear_down(self) -> None:
        services = self.api.services(filters={"label": f"{STACK_LABEL}={PREFIX}"})
        for service in services:
            with contextlib.suppress(NotFound):
                self.api.remove_service(service["ID"])
        deadline = time.monotonic() + 60.0
        for service in services:
            label = f"com.docker.swarm.service.name={service['Spec']['Name']}"
            while self.api.containers(filters={"label": label}) and time.monotonic() < deadline:
                time.sleep(POLL_S)
        for network in self.api.networks(filters={"label": f"{STACK_LABEL}={PREFIX}"}):
            remove_network(self.api, network["Id"])
        if self._conf_dir is not None:
            shutil.rmtree(self._conf_dir, ignore_errors=True)
            self._conf_dir = None


def _wait_running(api: docker.APIClient, service: str, replicas: int) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        tasks = api.tasks(filters={"service": service, "desired-state": "running"})
        if sum(t["Status"]["State"] == "running" for t in tasks) >= replicas:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{service}: fewer than {replicas} running tasks after {TIMEOUT_S:g}s")
        time.sleep(POLL_S)


# --- (c): this project ----------------------------------------------------------------


class ProjectSetup:
    """The `dev` stack with only what this machine forces overridden."""

    key = "c"
    title = "project defaults (dev stack)"

    def __init__(self, api: docker.APIClient, port: int):
        self.applier = SwarmApplier(api, PREFIX)
        # Every image pulled from the test registry, as production pulls from one.
        self.registry = local_registry()
        self.overrides: dict[str, object] = {
            "appName": PREFIX,
            "appImage": APP_REPO,
            "nginxImage": NGINX_IMAGE,
            "edgeImage": NGINX_IMAGE,
            "publishedPort": port,
            # Two overlay networks on one swarm cannot share a subnet (Swarm leaves
            # the tasks in "new"): clear of the dev stack's and the e2e stack's.
            "overlaySubnet": "10.251.0.0/24",
            "edgeSubnet": "10.251.1.0/24",
        }

    def apply(self, values: dict[str, object], secrets: dict[str, str] | None = None) -> None:
        """`pulumi up` of the `dev` stack with ``values`` over this setup's overrides, and ``secrets``
        as `pulumi config set --secret` sets them."""
        self.applier.deploy(self.program({**self.overrides, **values}, secrets))

    def program(self, overrides: dict[str, object], secrets: dict[str, str] | None = None) -> DeclaredProgram:
        """The `dev` stack with ``overrides``, its images on the test registry."""
        return self.registry.program(PREFIX, overrides, secrets)

    def deploy(self) -> None:
        self.apply({"imageTag": "v1"})

    def roll_out(self) -> float:
        # One `pulumi up`: the real pool and its gate (Swarm finished, monitor
        # window included), then the backup pool, which pulumi-docker calls done
        # before Swarm's last monitor window; the rollout ends when Swarm finishes it.
        started = time.monotonic()
        self.apply({"imageTag": "v2"})
        command_s = time.monotonic() - started
        for role in (REAL_ROLE, BACKUP_ROLE):
            service = self.applier.find(SERVICE, pool_name(PREFIX, role))
            assert service is not None, f"the {role} pool is gone"
            image = self.registry.ref(f"{APP_REPO}:v2")
            wait_for_rollout(self.applier.api, service["ID"], image, REPLICAS, TIMEOUT_S, POLL_S)
        return command_s

    def tear_down(self) -> None:
        destroy_stack(self.applier, PREFIX)


SETUP_KEYS = ("a", "b", "c")


def build_setups(keys: list[str], api: docker.APIClient, port: int) -> list[Setup]:
    every: dict[str, Setup] = {
        "a": TutorialSetup("a", "tutorial as written", resolve=False, api=api, port=port),
        "b": TutorialSetup("b", "tutorial + nginx resolve", resolve=True, api=api, port=port),
        "c": ProjectSetup(api, port),
    }
    return [every[k] for k in keys]
