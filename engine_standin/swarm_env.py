"""The provisioned swarm that the end-to-end tests and the benchmark share."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import shlex
import socket
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError

from engine_standin.swarm_applier import ApplyError, SwarmApplier, remove_network
from engine_standin.swarm_applier.registry import RegistryDigests
from engine_standin.swarm_applier.registry_auth import REGISTRY_AUTH_KEY, AuthConfig, provider_auth_configs
from offline_runner.mock_program import DeclaredProgram, run_program
from offline_runner.stack_config import REPO_ROOT, load_stack_config, project_name

IMAGES = ("szd-testapp:v1", "szd-testapp:v2", "szd-testapp:bad", "szd-nginx:test", "szd-nginx:next")
PROVISION = "bash scripts/provision.sh all  (or: make provision)"
# The stack keys that name an image.
IMAGE_KEYS = ("appImage", "nginxImage", "edgeImage")


# What every test stack is made from: this stack's config, with the suite's values over it.
BASE_STACK = "dev"


@dataclass(frozen=True)
class LocalRegistry:
    """The registry `provision.sh registry` runs: private, as a team's is; the test images are pushed
    there, every swarm pulls from it with the credentials the stack gives pulumi-docker."""

    address: str
    ca_file: Path
    username: str
    password: str = field(repr=False)

    def ref(self, image: str) -> str:
        """``image`` (repo:tag) as the stacks name it: on this registry."""
        return f"{self.address}/{image}"

    def on_registry(self, values: dict[str, object]) -> dict[str, object]:
        """Stack overrides with their images (names such as ``szd-nginx:next``) on this registry, and
        its credentials in the provider's config, as `pulumi config set --secret --path
        'docker:registryAuth[0].password'` and its siblings set them."""
        auth = [{"address": self.address, "username": self.username, "password": self.password}]
        return {**values, **{key: self.ref(str(values[key])) for key in IMAGE_KEYS}, REGISTRY_AUTH_KEY: auth}

    def program(
        self,
        stack: str,
        values: dict[str, object],
        secrets: dict[str, str] | None = None,
        provider_config: dict[str, str] | None = None,
    ) -> DeclaredProgram:
        """The BASE_STACK with ``values`` over it (``on_registry``), ``secrets`` as `pulumi config set
        --secret` sets them, and ``provider_config`` (docker:host) as `pulumi config set` does, run
        under the mock runtime (``run``)."""
        secrets = secrets or {}
        config = load_stack_config(BASE_STACK, overrides={**self.on_registry(values), **secrets})
        config.update(provider_config or {})
        return self.run(config, stack, secret_keys=[f"{project_name()}:{key}" for key in secrets])

    def run(self, config: dict[str, str], stack: str, secret_keys: Sequence[str] = ()) -> DeclaredProgram:
        """The program for ``config`` (from ``on_registry``) under the mock runtime, its registry
        credentials a secret and ``getRegistryImage`` asking this registry as the provider would."""
        digests = RegistryDigests(self.ca_file, provider_auth_configs(config))
        return run_program(config, stack, secret_keys=[*secret_keys, REGISTRY_AUTH_KEY], digest=digests)

    @property
    def auth_config(self) -> dict[str, str]:
        """For the Docker SDK's pull and push."""
        return {"username": self.username, "password": self.password}

    def digest(self, ref: str) -> str:
        """The digest of ``ref`` (a name on this registry) there now."""
        auth = AuthConfig(f"https://{self.address}", self.username, self.password)
        return RegistryDigests(self.ca_file, {self.address: auth})(ref)

    def has(self, image: str) -> bool:
        try:
            self.digest(self.ref(image))
        except ApplyError:
            return False
        return True


@functools.cache
def local_registry() -> LocalRegistry:
    """Where the test registry listens (started if it is not: provision.sh registry-info)."""
    run = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts/provision.sh"), "registry-info"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if run.returncode != 0:
        raise RuntimeError(f"`provision.sh registry-info` failed: {run.stderr.strip()[-1000:]}")
    address, ca_file, username, password_file = shlex.split(run.stdout.strip())
    return LocalRegistry(address, Path(ca_file), username, Path(password_file).read_text().strip())


# Held for a whole e2e run or benchmark, which both deploy to the host's swarm; the
# cluster suite holds its own, its nodes' names being fixed. make test runs the two
# suites side by side, since both mostly wait on Swarm; a benchmark measures, so it
# holds both and runs alone.
SWARM_LOCK = Path("/tmp/szd-e2e.lock")
CLUSTER_LOCK = Path("/tmp/szd-cluster.lock")


def docker_ready() -> tuple[bool, str]:
    """(True, "") when the daemon, the swarm and the test images in the registry are there; else what is missing."""
    try:
        api = docker.from_env().api
        info = api.info()
    except Exception as error:  # noqa: BLE001 - any failure means "not provisioned"
        return False, f"a running Docker daemon ({error})"
    if info.get("Swarm", {}).get("LocalNodeState") != "active":
        return False, "an active swarm (docker swarm init --advertise-addr 127.0.0.1)"
    try:
        registry = local_registry()
    except RuntimeError as error:
        return False, f"the test registry ({error})"
    missing = [image for image in IMAGES if not registry.has(image)]
    if missing:
        return False, f"the test images {', '.join(missing)} in the registry {registry.address}"
    return True, ""


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def overlay_addresses(task: dict[str, Any], network_id: str | None = None) -> list[str]:
    """A task's addresses on its networks (or on the one given), without the prefix length: the
    addresses nginx dials and logs."""
    return [
        address.split("/")[0]
        for attachment in task.get("NetworksAttachments", [])
        if network_id is None or attachment["Network"]["ID"] == network_id
        for address in attachment.get("Addresses", [])
    ]


@contextmanager
def _hold(path: Path, holder: str) -> Iterator[None]:
    with path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for {path} ({holder})", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def swarm_lock() -> contextlib.AbstractContextManager[None]:
    """Wait for any other e2e run or benchmark on this machine, then hold the host's swarm."""
    return _hold(SWARM_LOCK, "an e2e run or a benchmark holds the swarm")


def cluster_lock() -> contextlib.AbstractContextManager[None]:
    """Wait for any other cluster run or benchmark on this machine, then hold the cluster's names."""
    return _hold(CLUSTER_LOCK, "a cluster run or a benchmark holds it")


def destroy_stack(applier: SwarmApplier, prefix: str) -> None:
    """`pulumi destroy`, run again while it fails and still gets further, then whatever a
    lost state left behind.

    pulumi-docker's service delete waits at most stopGracePeriod for Docker to
    remove the containers and fails otherwise, with the service already gone
    (kreuzwerker resource_docker_service_funcs.go deleteService; issue #206).
    Swarm stops a task only 2 s after taking it out of service discovery (moby
    daemon/cluster/executor/container/controller.go, defaultGossipConvergeDelay),
    so with a short grace period most deletes fail this way: a user runs
    `pulumi destroy` again, and so does this, as long as each run deletes something.
    """
    while True:
        left = len(applier.state().resources)
        try:
            applier.destroy()
            break
        except ApplyError:
            if len(applier.state().resources) >= left:
                raise
    # Objects of an interrupted run whose state file is gone (e.g. after make clean-machine).
    api = applier.api
    for service in api.services(filters={"name": prefix}):
        if service["Spec"]["Name"].startswith(f"{prefix}-"):
            api.remove_service(service["ID"])
    for config in api.configs(filters={"name": prefix}):
        if config["Spec"]["Name"].startswith(f"{prefix}-"):
            with contextlib.suppress(APIError):  # still used by a service on its way out
                api.remove_config(config["ID"])
    for network in api.networks(names=[prefix]):
        if network["Name"].startswith(f"{prefix}-"):
            remove_network(api, network["Id"])
