"""Pulumi's Python dynamic provider host, run as the engine runs it, and the engine's steps for its resources.

The host is the SDK's own ``pulumi.dynamic.__main__`` (pulumi 3.272.0 in
venv): a gRPC ResourceProvider server that deserializes ``__provider`` with
``dill.loads(base64.b64decode(...))`` (``get_provider``) and calls the
provider's check/diff/create/update/delete/read. The applier starts that very
module in a child process and speaks gRPC to it, so the provider is unpickled
and called exactly as under ``pulumi up``.

How the engine launches it (pulumi/pulumi at the 3.27x line):

- The plugin is ``pulumi-resource-pulumi-python``, a shell script shipped with
  the CLI (sdk/python/dist/pulumi-resource-pulumi-python). With
  ``PULUMI_RUNTIME_VIRTUALENV`` set it runs
  ``$PULUMI_RUNTIME_VIRTUALENV/bin/python -u -m pulumi.dynamic``, the path made
  absolute against ``$PWD``, with that bin first on PATH and PYTHONHOME unset;
  without it, ``${PULUMI_PYTHON_CMD:-python3} -u -m pulumi.dynamic`` (for the
  ``uv`` toolchain it defaults the virtualenv to ``.venv``, for ``poetry`` to
  ``poetry env info --path``).
- pkg/resource/plugin/provider_plugin.go ``NewProvider``: every Pulumi.yaml
  ``runtime.options`` entry becomes ``PULUMI_RUNTIME_<KEY>`` (here
  ``PULUMI_RUNTIME_TOOLCHAIN=pip``, ``PULUMI_RUNTIME_VIRTUALENV=venv``), plus
  ``PULUMI_PROJECT`` and ``PULUMI_CONFIG`` (the provider package's config as
  JSON), on top of the engine's own environment (pkg/host/host.go
  ``defaultHost.Provider`` passes ``ctx.RuntimeOptions()``).
- pkg/resource/plugin/plugin.go ``ExecPlugin``: ``cmd.Dir = pwd``, the
  plugin context's working directory, which pkg/engine/deployment.go
  ``ProjectInfoContext`` / pkg/engine/project.go ``getPwdMain`` set to the
  project root (the folder of Pulumi.yaml; the ``main`` folder if Pulumi.yaml
  sets one).
- ``python -m`` puts the working directory first on ``sys.path``: the project
  root, so a provider pickled by reference to a module of this project
  (``swarm_zero_downtime.swarm.rollout_gate.RolloutGateProvider``; in another
  program, the package installed in its virtualenv) imports; PYTHONPATH is
  inherited from the engine's environment.

The engine's side (pkg/resource/deploy/step_generator.go ``diffResource``,
step.go ``CreateStep``/``UpdateStep``/``RefreshStep``, pkg/engine/update.go
``OnResourceStepPost``):

- Diff gets the OLD OUTPUTS as ``olds``; a provider without ``diff()`` answers
  DIFF_UNKNOWN (``ResourceProvider.diff`` returns ``DiffResult()``), and the
  engine then compares old and new INPUTS: any change is an update.
- ``replaces`` in the answer means a replacement (refused here).
- The host turns every exception into a plain gRPC error (``_abort_with_traceback``, its traceback
  as the details, which the CLI shows; the applier's error keeps the exception's lines of it):
  there is no partial-state (``ErrorResourceInitFailed``) path, so a failed
  update keeps the OLD inputs and outputs, and a failed create records nothing.
- Outputs are what create/update return (``outs``), plus ``__provider``.
- Read on refresh: an empty id drops the resource from the state.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from engine_standin.swarm_applier.report import ApplyError
from offline_runner.stack_config import REPO_ROOT, project_name, runtime_options

DYNAMIC_PREFIX = "pulumi-python:dynamic"


def is_dynamic(type_: str) -> bool:
    """``pulumi-python:dynamic:Resource`` or ``pulumi-python:dynamic/<module>:<name>`` (dynamic.py Resource)."""
    return type_.startswith(DYNAMIC_PREFIX + ":") or type_.startswith(DYNAMIC_PREFIX + "/")


class DynamicProviderError(ApplyError):
    """The dynamic provider raised; ``details`` is the host's traceback."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


def exception_text(details: str) -> str:
    """The exception a host's error carries (``_abort_with_traceback``: ``traceback.format_exc()``), its
    message's every line: the traceback's header and frames (indented lines) left out."""
    lines = details.strip().splitlines()
    if "Traceback (most recent call last):" not in lines:
        return details.strip()
    rest = lines[lines.index("Traceback (most recent call last):") + 1 :]
    start = next((i for i, line in enumerate(rest) if not line.startswith((" ", "\t"))), len(rest))
    return "\n".join(rest[start:]) or details.strip()


class HostLaunchError(ApplyError):
    """The dynamic provider host could not be started the way the engine starts it."""


@dataclass(frozen=True)
class HostLaunch:
    argv: list[str]
    cwd: Path
    env: dict[str, str]


def host_launch(project_root: Path = REPO_ROOT, environ: dict[str, str] | None = None) -> HostLaunch:
    """The command, working directory and environment the engine gives pulumi-resource-pulumi-python."""
    env = dict(os.environ if environ is None else environ)
    for key, value in runtime_options(project_root).items():
        env["PULUMI_RUNTIME_" + key.upper()] = value  # provider_plugin.go NewProvider
    env["PULUMI_PROJECT"] = project_name(project_root)
    env["PULUMI_CONFIG"] = "{}"  # no config in the pulumi-python namespace
    virtualenv = env.get("PULUMI_RUNTIME_VIRTUALENV", "")
    if not virtualenv:
        toolchain = env.get("PULUMI_RUNTIME_TOOLCHAIN", "")
        if toolchain == "uv":
            virtualenv = ".venv"
        elif toolchain == "poetry":
            raise HostLaunchError("the poetry toolchain's virtualenv (poetry env info --path) is not modelled")
    if virtualenv:
        venv = Path(virtualenv.rstrip("/"))
        venv = venv if venv.is_absolute() else project_root / venv
        python = venv / "bin" / "python"
        if not python.is_file():
            raise HostLaunchError(
                f"The 'virtualenv' option in Pulumi.yaml is set to \"{venv}\", but it doesn't appear to be a virtual environment."
            )
        env["PATH"] = f"{venv}/bin:{env.get('PATH', '')}"
        env.pop("PYTHONHOME", None)
        argv = [str(python), "-u", "-m", "pulumi.dynamic"]
    else:
        argv = [env.get("PULUMI_PYTHON_CMD", "python3"), "-u", "-m", "pulumi.dynamic"]
    # The engine passes its own address; this host never calls back.
    return HostLaunch([*argv, "127.0.0.1:0"], project_root, env)


def _serialize(props: dict[str, Any]) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(props, {}))
    finally:
        loop.close()


def _deserialize(struct: Any) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct) or {})


@dataclass(frozen=True)
class DiffAnswer:
    changes: str  # "some" | "none" | "unknown"
    replaces: tuple[str, ...]
    delete_before_replace: bool


class DynamicHost:
    """One running ``python -m pulumi.dynamic``, configured with no config, as the engine configures it."""

    def __init__(self, project_root: Path = REPO_ROOT, log: Callable[[str], None] | None = None):
        self.project_root = project_root
        self.log = log or (lambda message: None)
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: Any = None
        # A refresh reads side by side (apply.py _refresh): one host for all, configured before its first call.
        self._starting = threading.RLock()

    def _start(self) -> Any:
        if self._stub is not None:
            return self._stub
        launch = host_launch(self.project_root)
        self._proc = subprocess.Popen(
            launch.argv, cwd=launch.cwd, env=launch.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        line = self._proc.stdout.readline().decode().strip()
        if not line.isdigit():
            error = self._proc.stderr.read().decode(errors="replace") if self._proc.poll() is not None else ""
            self.close()
            raise HostLaunchError(f"the dynamic provider host did not start: {line!r} {error}")
        stderr = self._proc.stderr
        threading.Thread(target=self._drain, args=(stderr,), daemon=True).start()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{line}")
        self._stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        self._call("Configure", provider_pb2.ConfigureRequest(args=_serialize({}), acceptSecrets=True))
        return self._stub

    def _drain(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            self.log(f"dynamic provider host: {raw.decode(errors='replace').rstrip()}")

    def _call(self, method: str, request: Any) -> Any:
        with self._starting:
            stub = self._stub if self._stub is not None else self._start()
        try:
            return getattr(stub, method)(request)
        except grpc.RpcError as error:
            details = error.details() or str(error)
            raise DynamicProviderError(exception_text(details), details) from None

    def check(self, urn: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        response = self._call("Check", provider_pb2.CheckRequest(urn=urn, olds=_serialize(olds), news=_serialize(news)))
        if response.failures:
            reasons = "; ".join(f"{f.property}: {f.reason}" for f in response.failures)
            raise DynamicProviderError(f"check failed: {reasons}")
        return _deserialize(response.inputs)

    def diff(
        self, id_: str, urn: str, old_outputs: dict[str, Any], news: dict[str, Any], old_inputs: dict[str, Any]
    ) -> DiffAnswer:
        response = self._call(
            "Diff",
            provider_pb2.DiffRequest(
                id=id_, urn=urn, olds=_serialize(old_outputs), news=_serialize(news), old_inputs=_serialize(old_inputs)
            ),
        )
        changes = {
            provider_pb2.DiffResponse.DIFF_SOME: "some",
            provider_pb2.DiffResponse.DIFF_NONE: "none",
        }.get(response.changes, "unknown")
        return DiffAnswer(changes, tuple(response.replaces), bool(response.deleteBeforeReplace))

    def create(self, urn: str, props: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        response = self._call("Create", provider_pb2.CreateRequest(urn=urn, properties=_serialize(props)))
        return response.id, _deserialize(response.properties)

    def update(
        self, id_: str, urn: str, old_outputs: dict[str, Any], news: dict[str, Any], old_inputs: dict[str, Any]
    ) -> dict[str, Any]:
        response = self._call(
            "Update",
            provider_pb2.UpdateRequest(
                id=id_, urn=urn, olds=_serialize(old_outputs), news=_serialize(news), old_inputs=_serialize(old_inputs)
            ),
        )
        return _deserialize(response.properties)

    def delete(self, id_: str, urn: str, outputs: dict[str, Any], inputs: dict[str, Any]) -> None:
        self._call(
            "Delete",
            provider_pb2.DeleteRequest(id=id_, urn=urn, properties=_serialize(outputs), old_inputs=_serialize(inputs)),
        )

    def read(
        self, id_: str, urn: str, outputs: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        response = self._call(
            "Read",
            provider_pb2.ReadRequest(id=id_, urn=urn, properties=_serialize(outputs), inputs=_serialize(inputs)),
        )
        new_inputs = _deserialize(response.inputs) if response.HasField("inputs") else None
        return response.id, _deserialize(response.properties), new_inputs

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc, self._channel, self._stub = None, None, None

    def __enter__(self) -> DynamicHost:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def input_changes(old_inputs: dict[str, Any], new_inputs: dict[str, Any]) -> tuple[str, ...]:
    """The top-level keys whose value changed: the engine's fallback diff for DIFF_UNKNOWN (``oldInputs.Diff(new)``)."""
    keys = sorted(set(old_inputs) | set(new_inputs))
    return tuple(
        k
        for k in keys
        if json.dumps(old_inputs.get(k), sort_keys=True) != json.dumps(new_inputs.get(k), sort_keys=True)
    )
