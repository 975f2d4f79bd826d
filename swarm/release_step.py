"""The release step: a command (database migrations, say) run once per deploy from the new image, before
the real pool rolls.

pulumi-docker's ``Service`` has no job mode, so, like the rollout gate, this is
a Pulumi dynamic resource that talks to Swarm through the Docker API from
inside `pulumi up`. Its create, and every update where the image, the command,
the environment or the secrets changed, runs a Swarm replicated job (API 1.41
and later) from the new pinned image: the app's environment and secret mounts,
on the app network (so it reaches what the app reaches), pulling with the
credentials pulumi-docker gives the pools (swarm/registry_auth.py). It waits for
the job's one task, reads the end of its output, removes the job, and fails
with the exit code and that output when the command failed: `pulumi up` stops
there, and the real pool, which depends on the step, is never touched.

The output of a successful run goes to the provider's stderr, which the engine
shows among the run's diagnostics (pkg/resource/plugin/plugin.go ``newPlugin``:
a plugin's stderr lines become ``Infoerrf`` stream messages).
"""

from __future__ import annotations

import contextlib
import secrets
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docker
import pulumi
from docker.errors import APIError, NotFound
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from swarm_zero_downtime.swarm.api_request import post_json
from swarm_zero_downtime.swarm.naming import RELEASE_LABEL, release_job_name
from swarm_zero_downtime.swarm.rollout_gate import docker_api

POLL_S = 1.0
# The end of the output kept for the error or the log: enough for a migration's traceback.
TAIL_LINES = 40
TAIL_CHARS = 4000
# What makes a run: a change of any of them runs the command again; of anything else (the timeout,
# the Docker host, the network's id), not.
RERUN_KEYS = ("image", "command", "env", "secrets")
# Never among the outputs: the engine keeps it only as the secret input it is.
AUTH_KEY = "registry_auth"
# Swarm's TaskState values (moby api/types/swarm TaskState) after which a task runs no more.
FAILED = ("failed", "rejected", "shutdown", "orphaned", "remove")


class ReleaseFailed(Exception):
    """The release command failed, or did not finish in time."""


@dataclass(frozen=True)
class Outcome:
    """How the job's task ended: ``state`` "complete" is success."""

    state: str
    exit_code: int | None
    message: str


def job_spec(props: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The Swarm service spec of one run: a replicated job of one task that is never restarted."""
    container: dict[str, Any] = {
        "Image": props["image"],
        # Replaces ENTRYPOINT; with it set, Docker takes no CMD from the image either.
        "Command": list(props["command"]),
        "Env": [f"{k}={v}" for k, v in (props.get("env") or {}).items()],
    }
    if props.get("secrets"):
        container["Secrets"] = [
            {
                "SecretID": s["secret_id"],
                "SecretName": s["secret_name"],
                # Numbers come through Pulumi's wire format as floats; Swarm wants an integer mode.
                "File": {"Name": s["file_name"], "UID": "0", "GID": "0", "Mode": int(s["file_mode"])},
            }
            for s in props["secrets"]
        ]
    return {
        "Name": name,
        "Labels": {RELEASE_LABEL: props["app_name"]},
        "TaskTemplate": {
            "ContainerSpec": container,
            # One attempt: a failed migration is reported, not retried behind the user's back.
            "RestartPolicy": {"Condition": "none"},
            "Networks": [{"Target": props["network_id"]}],
        },
        "Mode": {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}},
    }


def create_job(api: docker.APIClient, spec: dict[str, Any], registry_auth: str | None) -> str:
    """POST /services/create with ``registry_auth`` as X-Registry-Auth, as pulumi-docker sends it.

    The SDK's create_service would send the CLI's credentials of this machine instead (docker
    config.json), not the stack's."""
    return str(post_json(api, "/services/create", spec, registry_auth)["ID"])


def outcome(tasks: Sequence[dict[str, Any]]) -> Outcome | None:
    """The job's end, or None while its task is still on its way (pending, pulling, running)."""
    for task in tasks:
        status = task.get("Status") or {}
        state = status.get("State", "")
        if state == "complete" or state in FAILED:
            code = (status.get("ContainerStatus") or {}).get("ExitCode")
            return Outcome(state, None if code is None else int(code), status.get("Err") or status.get("Message", ""))
    return None


def tail(output: bytes) -> str:
    text = output.decode(errors="replace").rstrip()
    return text[-TAIL_CHARS:]


def remove_leftovers(api: docker.APIClient, app_name: str) -> None:
    """Remove a job an interrupted run left behind: its task may still hold the app's secrets."""
    for service in api.services(filters={"label": f"{RELEASE_LABEL}={app_name}"}):
        remove_job(api, service["ID"])


def remove_job(api: docker.APIClient, service_id: str) -> None:
    with contextlib.suppress(NotFound):
        api.remove_service(service_id)


def run_release(
    api: docker.APIClient, props: Mapping[str, Any], timeout_s: float, poll_s: float = POLL_S
) -> tuple[Outcome, str]:
    """Run the job to its end (or the timeout) and remove it: how its task ended, and the end of its output."""
    remove_leftovers(api, props["app_name"])
    spec = job_spec(props, release_job_name(props["app_name"], secrets.token_hex(3)))
    deadline = time.monotonic() + timeout_s
    service_id = create_job(api, spec, props.get(AUTH_KEY))
    try:
        while (ended := outcome(api.tasks(filters={"service": service_id}))) is None:
            if time.monotonic() > deadline:
                ended = Outcome("timeout", None, f"not finished after {timeout_s:g}s (releaseTimeout)")
                break
            time.sleep(poll_s)
        try:
            # The SDK streams a service's logs, frame by frame, whatever ``follow`` says.
            chunks = api.service_logs(service_id, stdout=True, stderr=True, tail=str(TAIL_LINES), is_tty=False)
            output = tail(b"".join(chunks))
        except APIError as error:
            output = f"(its output could not be read: {error.explanation or error})"
        return ended, output
    finally:
        remove_job(api, service_id)


def describe(props: Mapping[str, Any]) -> str:
    return f"release step `{shlex.join(props['command'])}` from {props['image']}"


class ReleaseStepProvider(ResourceProvider):
    """create, and update when a run's inputs changed, run the command; nothing to delete or read back."""

    # Nothing secret is captured (the credentials come as an input): keep the provider readable in state.
    serialize_as_secret_always = False

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in RERUN_KEYS))

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._run(props)
        return CreateResult(id_=f"release-of-{props['app_name']}", outs=self._outs(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._run(news)
        return UpdateResult(outs=self._outs(news))

    @staticmethod
    def _outs(props: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in props.items() if k != AUTH_KEY}

    @staticmethod
    def _run(props: dict[str, Any]) -> None:
        started = time.monotonic()
        ended, output = run_release(docker_api(props.get("docker_host")), props, float(props["timeout_s"]), POLL_S)
        seconds = time.monotonic() - started
        shown = f"\n--- the end of its output ---\n{output}" if output else " (no output)"
        if ended.state != "complete":
            code = f"exit code {ended.exit_code}" if ended.exit_code is not None else f"task {ended.state}"
            raise ReleaseFailed(f"{describe(props)} failed after {seconds:.1f}s: {code}: {ended.message}{shown}")
        print(f"{describe(props)} succeeded in {seconds:.1f}s{shown}", file=sys.stderr, flush=True)


# The step's type token as the engine sees it: pulumi-python:dynamic/<module>:<name>.
RELEASE_TYPE = "pulumi-python:dynamic/swarm:ReleaseStep"


class ReleaseStep(Resource, module="swarm", name="ReleaseStep"):
    """Runs ``command`` from ``image`` as the app runs (``env``, ``secrets``, ``network_id``) once per change."""

    def __init__(
        self,
        name: str,
        app_name: str,
        image: str,
        command: Sequence[str],
        env: Mapping[str, str],
        secrets: Sequence[Mapping[str, pulumi.Input[Any]]],
        network_id: pulumi.Input[str],
        timeout_s: float,
        registry_auth: str | None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "app_name": app_name,
            "image": image,
            "command": list(command),
            "env": dict(env),
            "secrets": [dict(s) for s in secrets],
            "network_id": network_id,
            "timeout_s": timeout_s,
            "docker_host": pulumi.Config("docker").get("host"),
        }
        if registry_auth:
            # A Pulumi secret: encrypted in the state, never among the outputs or in a preview.
            props[AUTH_KEY] = pulumi.Output.secret(registry_auth)
        super().__init__(ReleaseStepProvider(), name, props, opts)
