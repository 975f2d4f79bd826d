"""The engine's side of a component provider's Construct, over gRPC, as `pulumi up` would play it.

The engine (pkg/resource/deploy/source_eval.go) starts a resource monitor and
its own Engine service, then calls the provider's Construct with the monitor's
address, the caller's stack config and the inputs; the provider registers the
component and its children with that monitor. Here the monitor is the offline
runner's recording one (pulumi's MockMonitor: resources are recorded, never
created; ``getRegistryImage`` is answered as in the mock runtime), served on
loopback. Every call it does not model is refused (the servicer's
UNIMPLEMENTED), so a provider that needs more fails loudly.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
from google.protobuf import empty_pb2, json_format, struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import (
    engine_pb2_grpc,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

from offline_runner.mock_program import ProgramMocks, mock_digest
from offline_runner.pulumi_internals import RecordingMonitor, Registration, recording_monitor

# The provider prints its port on its first line once it serves (pulumi.provider.main).
STARTUP_TIMEOUT_S = 60.0


class _Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    def __init__(self, monitor: RecordingMonitor) -> None:
        self.monitor = monitor

    def SupportsFeature(self, request: Any, context: Any) -> Any:
        return resource_pb2.SupportsFeatureResponse(hasSupport=self.monitor.SupportsFeature(request).hasSupport)

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:
        return self.monitor.GetDeploymentInfo(request)

    def RegisterResource(self, request: Any, context: Any) -> Any:
        return self.monitor.RegisterResource(request)

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        return self.monitor.RegisterResourceOutputs(request)

    def Invoke(self, request: Any, context: Any) -> Any:
        return self.monitor.Invoke(request)


@dataclass
class _Engine(engine_pb2_grpc.EngineServicer):
    logs: list[str] = field(default_factory=list)

    def Log(self, request: Any, context: Any) -> Any:
        self.logs.append(request.message)
        return empty_pb2.Empty()


@dataclass
class Constructed:
    """What one Construct registered, logged and answered."""

    registered: list[Registration]
    logs: list[str]
    urn: str
    state: dict[str, Any]


@dataclass
class ProviderHost:
    """A component provider process, started as the Python language host starts one (``provider_host``)."""

    process: subprocess.Popen[str]
    channel: grpc.Channel
    engine: _Engine
    engine_address: str

    @property
    def stub(self) -> provider_pb2_grpc.ResourceProviderStub:
        return provider_pb2_grpc.ResourceProviderStub(self.channel)

    def schema(self) -> dict[str, Any]:
        response = self.stub.GetSchema(provider_pb2.GetSchemaRequest(version=0))
        schema: dict[str, Any] = json.loads(response.schema)
        return schema

    def construct(
        self,
        type_: str,
        name: str,
        inputs: dict[str, Any],
        *,
        project: str,
        stack: str,
        config: dict[str, str],
        secret_keys: list[str] | None = None,
    ) -> Constructed:
        """Construct ``type_`` as a child of the stack, preview mode, with a fresh recording monitor."""
        monitor = recording_monitor(ProgramMocks(mock_digest), project=project, stack=stack)
        struct = struct_pb2.Struct()
        struct.update(inputs)
        self.engine.logs.clear()
        with _serve(
            lambda server: resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_Monitor(monitor), server)
        ) as address:
            response = self.stub.Construct(
                provider_pb2.ConstructRequest(
                    project=project,
                    stack=stack,
                    organization="organization",
                    config=config,
                    configSecretKeys=secret_keys or [],
                    dryRun=True,
                    parallel=1,
                    monitorEndpoint=address,
                    type=type_,
                    name=name,
                    parent=stack_urn(project, stack),
                    inputs=struct,
                )
            )
        state = json_format.MessageToDict(response.state)
        return Constructed(monitor.registered, list(self.engine.logs), response.urn, state)


def stack_urn(project: str, stack: str) -> str:
    return f"urn:pulumi:{stack}::{project}::pulumi:pulumi:Stack::{project}-{stack}"


@contextmanager
def _serve(add: Any) -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    add(server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


def _first_line(process: subprocess.Popen[str]) -> str:
    """The provider's first line, or an error with its stderr when it exits or stays silent."""
    stdout = process.stdout
    assert stdout is not None
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(STARTUP_TIMEOUT_S)
    if not line or not line[0].strip():
        process.kill()
        _, stderr = process.communicate()
        raise RuntimeError(f"the provider did not print its port within {STARTUP_TIMEOUT_S:.0f} s: {stderr[-3000:]}")
    return line[0].strip()


@contextmanager
def provider_host(plugin: Path, cwd: Path) -> Iterator[ProviderHost]:
    """Run the plugin folder ``plugin`` as the Python language host runs one with a
    ``__main__.py``: ``python <plugin folder> <engine address>``, from the caller's folder
    (sdk/python/cmd/pulumi-language-python/main.go ``RunPlugin``; in the plugin's virtualenv there)."""
    engine = _Engine()
    with _serve(lambda server: engine_pb2_grpc.add_EngineServicer_to_server(engine, server)) as engine_address:
        process = subprocess.Popen(
            [sys.executable, str(plugin), engine_address],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            port = _first_line(process)
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                yield ProviderHost(process, channel, engine, engine_address)
        finally:
            process.kill()
            process.communicate()
