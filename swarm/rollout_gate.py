"""The rollout gate: `pulumi up` goes on past a pool only once Swarm has truly finished rolling it.

pulumi-docker calls a service update done as soon as every replica slot has a
running task, even between update steps or inside Swarm's monitor window, and
records the new inputs even when Swarm rolled the update back (see
docs/known-limits.md). So the program puts this gate after the real pool: a Pulumi
dynamic resource whose create and update look at the service in Swarm itself
and return only when its rollout is complete on the declared image, or fail
with Swarm's own message when Swarm rolled it back or paused it. Because it
reads Swarm's state, not Pulumi's, it fails again on a re-run with the same bad
config, and whatever depends on the real pool (the backup pool) never starts.

The same code runs under the real engine (its Python dynamic provider host
unpickles the provider) and under the test applier.

It also stands after the nginx tiers. The edge is a global service, for which
pulumi-docker cannot wait at all (its converge wait knows only replicated
services and fails with "no replica count"), so the gate is its only wait.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import docker
import pulumi
from docker.errors import NotFound
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult
from pulumi.dynamic.dynamic import PROVIDER_KEY

from swarm_zero_downtime.swarm.naming import SPEC_LABEL

POLL_S = 1.0
# Swarm's UpdateStatus.State values (moby api/types/swarm UpdateState).
IN_PROGRESS = ("updating", "rollback_started")
STOPPED = ("paused", "rollback_paused")


class RolloutFailed(Exception):
    """Swarm rolled the pool back or paused it, or it did not finish in time."""


@dataclass(frozen=True)
class Verdict:
    done: bool
    failure: str | None = None
    waiting_for: str = ""


def _without_digest(image: str) -> str:
    return image.split("@", 1)[0]


def same_image(running: str, declared: str) -> bool:
    """Whether Swarm runs the declared image: pulumi-docker pins a tag to its digest on create."""
    if "@" in declared:
        return running == declared
    return _without_digest(running) == declared


def eligible_nodes(nodes: list[dict[str, Any]]) -> int:
    """Nodes a global service runs a task on: ready and active (the edge has no placement constraints)."""
    return sum(1 for n in nodes if n["Status"]["State"] == "ready" and n["Spec"].get("Availability") == "active")


def verdict(
    service: dict[str, Any],
    tasks: list[dict[str, Any]],
    image: str,
    replicas: int,
    spec_sha256: str | None = None,
    secret_ids: Sequence[str] = (),
) -> Verdict:
    """Is the rollout of ``service`` (inspect output) to ``image`` on ``replicas`` tasks finished, failed, or going?

    ``spec_sha256``: the declared spec's fingerprint, which the service carries as
    its SPEC_LABEL; None: the image alone tells the declared spec. ``secret_ids``:
    the Swarm secrets the declared spec mounts (a rotated value is a new one)."""
    name = service["Spec"]["Name"]
    spec_image = service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
    status = service.get("UpdateStatus") or {}
    state, message = status.get("State"), status.get("Message", "")
    # Swarm puts the whole previous spec back when it rolls an update back, labels included.
    what = f"Swarm's update state is {state}: {message}" if state else "its spec was changed outside Pulumi"
    if not same_image(spec_image, image):
        return Verdict(False, f"{name} runs {spec_image}, not the declared {image}: {what}")
    running_spec = (service["Spec"].get("Labels") or {}).get(SPEC_LABEL)
    if spec_sha256 is not None and running_spec != spec_sha256:
        running_label = f"spec {running_spec[:12]}" if running_spec else "a spec without one"
        return Verdict(
            False, f"{name} runs {running_label}, not the declared {spec_sha256[:12]} ({SPEC_LABEL}): {what}"
        )
    mounted = {ref["SecretID"] for ref in service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Secrets") or []}
    if not set(secret_ids) <= mounted:
        return Verdict(
            False, f"{name} does not mount the declared Swarm secrets {sorted(set(secret_ids) - mounted)}: {what}"
        )
    if state in IN_PROGRESS:
        return Verdict(False, waiting_for=f"Swarm's update ({state}: {message})")
    if state in STOPPED:
        return Verdict(False, f"{name}: Swarm's update is {state}: {message}")
    running = [
        t
        for t in tasks
        if t.get("DesiredState") == "running"
        and t["Status"]["State"] == "running"
        and same_image(t["Spec"]["ContainerSpec"]["Image"], image)
    ]
    # A task with a health check is "running" only once healthy (moby's
    # container controller waits for health_status: healthy before it reports it).
    if len(running) < replicas:
        return Verdict(False, waiting_for=f"{len(running)}/{replicas} tasks running and healthy on {image}")
    return Verdict(True)


def wait_for_rollout(
    api: docker.APIClient,
    service_id: str,
    image: str,
    replicas: int | None,
    timeout_s: float,
    poll_s: float = POLL_S,
    spec_sha256: str | None = None,
    secret_ids: Sequence[str] = (),
) -> None:
    """Until ``replicas`` tasks (None: one per eligible node, a global service) run ``image`` healthy, on
    the spec ``spec_sha256`` when given, mounting ``secret_ids``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            service = api.inspect_service(service_id)
        except NotFound:
            raise RolloutFailed(f"service {service_id} is gone from the swarm") from None
        tasks = api.tasks(filters={"service": service_id})
        expected = replicas if replicas is not None else eligible_nodes(api.nodes())
        result = verdict(service, tasks, image, expected, spec_sha256, secret_ids)
        if result.failure:
            raise RolloutFailed(result.failure)
        if result.done:
            return
        if time.monotonic() > deadline:
            raise RolloutFailed(
                f"{service['Spec']['Name']}: not finished after {timeout_s:g}s, waiting for {result.waiting_for}"
            )
        time.sleep(poll_s)


def docker_api(host: str | None) -> docker.APIClient:
    """The Docker API pulumi-docker talks to: its `docker:host` config, else DOCKER_HOST and friends."""
    # use_ssh_client: an ssh:// host is reached through the ssh binary, as the docker CLI does.
    if host:
        return docker.APIClient(base_url=host, use_ssh_client=True, timeout=60)
    return docker.from_env(use_ssh_client=True, timeout=60).api


class RolloutGateProvider(ResourceProvider):
    """create/update wait for the rollout; nothing to delete or read back."""

    # Nothing secret is captured: keep the provider readable in state and previews.
    serialize_as_secret_always = False

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        # Any change of what is declared for the pool is a new rollout to wait for. The
        # pickled provider is not declared: another Python or dill pickles it differently.
        keys = (set(olds) | set(news)) - {PROVIDER_KEY}
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys))

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._wait(props)
        return CreateResult(id_=f"rollout-of-{props['service_id']}", outs=dict(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._wait(news)
        return UpdateResult(outs=dict(news))

    @staticmethod
    def _wait(props: dict[str, Any]) -> None:
        wait_for_rollout(
            docker_api(props.get("docker_host")),
            props["service_id"],
            props["image"],
            None if props.get("replicas") is None else int(props["replicas"]),
            float(props["timeout_s"]),
            spec_sha256=props["spec_sha256"],
            secret_ids=props.get("secret_ids") or (),
        )


# The gate's type token as the engine sees it: pulumi-python:dynamic/<module>:<name>.
GATE_TYPE = "pulumi-python:dynamic/swarm:RolloutGate"


class RolloutGate(Resource, module="swarm", name="RolloutGate"):
    """Succeeds once Swarm has finished rolling ``service_id`` out to ``image``; fails when Swarm did not.

    ``replicas`` None: a global service, one task per eligible node.
    """

    def __init__(
        self,
        name: str,
        service_id: pulumi.Input[str],
        image: str,
        replicas: int | None,
        timeout_s: float,
        spec_sha256: str,
        secret_ids: Sequence[pulumi.Input[str]] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "service_id": service_id,
            "image": image,
            "replicas": replicas,
            "timeout_s": timeout_s,
            # The declared spec's fingerprint, also the service's SPEC_LABEL: any change of it is a
            # rollout to wait for, and a service carrying another one was rolled back.
            "spec_sha256": spec_sha256,
            "docker_host": pulumi.Config("docker").get("host"),
        }
        if secret_ids:
            # Only when there are any: a stack without secrets declares the gate it did before.
            props["secret_ids"] = list(secret_ids)
        super().__init__(RolloutGateProvider(), name, props, opts)
