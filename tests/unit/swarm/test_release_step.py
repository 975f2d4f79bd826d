"""The release step's provider over HTTP, against a small stand-in for the Docker Engine API's job calls.

The provider runs as under `pulumi up`: the real Docker SDK client from ``docker_host``, the job created,
its task polled, its logs read as the Engine streams them (multiplexed frames), the job removed.
"""

from __future__ import annotations

import json
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from docker.errors import APIError
from pulumi.dynamic.dynamic import serialize_provider

from engine_standin.swarm_applier import DynamicProviderError, SwarmApplier
from engine_standin.swarm_applier.translate import SECRET_SIG, SIG_KEY
from offline_runner.mock_program import DeclaredProgram, DeclaredResource
from swarm_zero_downtime.swarm.naming import RELEASE_LABEL
from swarm_zero_downtime.swarm.release_step import AUTH_KEY, RELEASE_TYPE, ReleaseFailed, ReleaseStepProvider
from tests.unit.engine_standin.fake_docker import FakeClock, FakeDocker

AUTH = "eyJ1c2VybmFtZSI6ImRlcGxveSJ9"  # what swarm/registry_auth.py makes for the image's registry
IMAGE = f"registry.example:5000/shop:v2@sha256:{'a' * 64}"


class FakeEngine:
    """Answers /version, /services (list, create, delete, logs) and /tasks; ``task_states`` are what
    successive task polls show, the last one for good; ``refusal``: the create's 400 message."""

    def __init__(
        self, task_states: list[dict[str, Any]], output: bytes = b"", leftovers: int = 0, refusal: str | None = None
    ) -> None:
        self.task_states = task_states
        self.refusal = refusal
        self.output = output
        self.services: dict[str, dict[str, Any]] = {
            f"left-{i}": {"ID": f"left-{i}", "Spec": {"Labels": {RELEASE_LABEL: "shop"}}} for i in range(leftovers)
        }
        self.created: list[tuple[dict[str, Any], str | None]] = []
        self.removed: list[str] = []
        self.polls = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self._server.server_address[1]}"

    def tasks(self) -> list[dict[str, Any]]:
        state = self.task_states[min(self.polls, len(self.task_states) - 1)]
        self.polls += 1
        return [{"ID": "task-1", "Status": state}]

    def __enter__(self) -> FakeEngine:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def frames(stdout: bytes) -> bytes:
    """The Engine's multiplexed log stream: an 8-byte header (stream 1, payload length) per frame."""
    return b"".join(struct.pack(">BxxxL", 1, len(line)) + line for line in stdout.splitlines(keepends=True))


def _handler(engine: FakeEngine) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            pass

        def answer(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            path = url.path.split("/", 2)[-1] if url.path.startswith("/v") else url.path.lstrip("/")
            if path == "version":
                self.answer(200, json.dumps({"ApiVersion": "1.44", "Version": "27.0.0"}).encode())
            elif path == "services":
                label = json.loads(parse_qs(url.query)["filters"][0])["label"]
                listed = list(engine.services.values()) if label == [f"{RELEASE_LABEL}=shop"] else []
                self.answer(200, json.dumps(listed).encode())
            elif path == "tasks":
                self.answer(200, json.dumps(engine.tasks()).encode())
            elif path.startswith("services/") and path.endswith("/logs"):
                tail = parse_qs(url.query).get("tail", ["all"])[0]
                lines = engine.output.splitlines(keepends=True)
                kept = lines if tail == "all" else lines[len(lines) - int(tail) :]
                self.answer(200, frames(b"".join(kept)), "application/vnd.docker.multiplexed-stream")
            else:
                self.answer(404, b'{"message":"not here"}')

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            engine.created.append((body, self.headers.get("X-Registry-Auth")))
            if engine.refusal is not None:
                self.answer(400, json.dumps({"message": engine.refusal}).encode())
                return
            engine.services["job-1"] = {"ID": "job-1", "Spec": body}
            self.answer(201, b'{"ID":"job-1"}')

        def do_DELETE(self) -> None:
            service_id = self.path.rsplit("/", 1)[-1]
            if engine.services.pop(service_id, None) is None:
                self.answer(404, b'{"message":"service not found"}')
                return
            engine.removed.append(service_id)
            self.answer(200, b"")

    return Handler


RUNNING = {"State": "running", "Message": "started"}
COMPLETE = {"State": "complete", "Message": "finished", "ContainerStatus": {"ExitCode": 0}}
FAILED = {"State": "failed", "Err": "task: non-zero exit (3)", "ContainerStatus": {"ExitCode": 3}}


def props(docker_host: str, **changes: Any) -> dict[str, Any]:
    return {
        "app_name": "shop",
        "image": IMAGE,
        "command": ["bin/migrate", "--to", "latest"],
        "env": {"LOG_LEVEL": "info", "DB_PASSWORD_FILE": "/run/secrets/DB_PASSWORD"},
        # As the wire format gives them: every number a float.
        "secrets": [
            {
                "secret_id": "s1",
                "secret_name": "shop-secret-DB_PASSWORD-1a2b3c4",
                "file_name": "DB_PASSWORD",
                "file_mode": 292.0,
            }
        ],
        "network_id": "net-1",
        "timeout_s": 30.0,
        "docker_host": docker_host,
        AUTH_KEY: AUTH,
        **changes,
    }


@pytest.fixture
def fast_polls(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr("swarm_zero_downtime.swarm.release_step.POLL_S", 0.01)
    yield


def test_a_run_is_one_swarm_job_from_the_new_image_as_the_app_runs_with_the_pools_credentials(fast_polls, capsys):
    with FakeEngine([RUNNING, RUNNING, COMPLETE], output=b"migrating\nmigrated 3 tables\n") as engine:
        result = ReleaseStepProvider().create(props(engine.url))
    ((spec, auth),) = engine.created
    assert auth == AUTH
    assert spec["Name"].startswith("shop-release-") and spec["Labels"] == {RELEASE_LABEL: "shop"}
    assert spec["Mode"] == {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}
    template = spec["TaskTemplate"]
    assert template["RestartPolicy"] == {"Condition": "none"}
    assert template["Networks"] == [{"Target": "net-1"}]
    assert template["ContainerSpec"] == {
        "Image": IMAGE,
        "Command": ["bin/migrate", "--to", "latest"],
        "Env": ["LOG_LEVEL=info", "DB_PASSWORD_FILE=/run/secrets/DB_PASSWORD"],
        "Secrets": [
            {
                "SecretID": "s1",
                "SecretName": "shop-secret-DB_PASSWORD-1a2b3c4",
                "File": {"Name": "DB_PASSWORD", "UID": "0", "GID": "0", "Mode": 0o444},
            }
        ],
    }
    assert engine.polls == 3 and engine.removed == ["job-1"]
    # The credentials stay an input: the outputs, kept in the state, never hold them.
    assert result.id == "release-of-shop" and AUTH_KEY not in (result.outs or {})
    # Shown among the run's diagnostics (the provider's stderr), with the end of its output.
    err = capsys.readouterr().err
    assert f"release step `bin/migrate --to latest` from {IMAGE} succeeded" in err
    assert err.rstrip().endswith("migrating\nmigrated 3 tables")


def test_an_update_runs_it_as_a_create_does(fast_polls):
    with FakeEngine([COMPLETE]) as engine:
        result = ReleaseStepProvider().update("release-of-shop", {}, props(engine.url))
    assert len(engine.created) == 1 and engine.removed == ["job-1"]
    assert result.outs == {k: v for k, v in props(engine.url).items() if k != AUTH_KEY}


def test_a_stack_without_registry_credentials_sends_none(fast_polls):
    with FakeEngine([COMPLETE]) as engine:
        ReleaseStepProvider().create({k: v for k, v in props(engine.url).items() if k != AUTH_KEY})
    assert [auth for _, auth in engine.created] == [None]


def test_a_job_docker_refuses_fails_with_dockers_reason(fast_polls):
    reason = "rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided"
    with FakeEngine([COMPLETE], refusal=reason) as engine, pytest.raises(APIError) as refused:
        ReleaseStepProvider().create(props(engine.url))
    assert refused.value.status_code == 400 and refused.value.explanation == reason
    assert engine.removed == []


def test_a_failed_command_fails_with_its_exit_code_and_the_end_of_its_output(fast_polls):
    output = b"".join(f"line {i}\n".encode() for i in range(100)) + b"ERROR: column users.email already exists\n"
    with FakeEngine([RUNNING, FAILED], output=output) as engine, pytest.raises(ReleaseFailed) as failed:
        ReleaseStepProvider().create(props(engine.url))
    message = str(failed.value)
    assert "exit code 3: task: non-zero exit (3)" in message
    assert message.endswith("ERROR: column users.email already exists")
    # The end of the output only: its last 40 lines.
    assert "line 61\n" in message and "line 60\n" not in message
    assert AUTH not in message
    assert engine.removed == ["job-1"]


def test_a_task_swarm_could_not_start_fails_with_swarms_reason(fast_polls):
    rejected = {"State": "rejected", "Err": "No such image: registry.example:5000/shop:v2"}
    reason = r"task rejected: No such image: registry.example:5000/shop:v2"
    with FakeEngine([rejected]) as engine, pytest.raises(ReleaseFailed, match=reason):
        ReleaseStepProvider().create(props(engine.url))
    assert engine.removed == ["job-1"]


def test_a_run_past_its_timeout_fails_and_its_job_is_removed(fast_polls):
    timed_out = r"not finished after 0.05s \(releaseTimeout\)"
    with FakeEngine([RUNNING], output=b"still migrating\n") as engine, pytest.raises(ReleaseFailed, match=timed_out):
        ReleaseStepProvider().create(props(engine.url, timeout_s=0.05))
    assert engine.removed == ["job-1"]


def test_a_job_an_interrupted_run_left_is_removed_first(fast_polls):
    with FakeEngine([COMPLETE], leftovers=2) as engine:
        ReleaseStepProvider().create(props(engine.url))
    assert engine.removed == ["left-0", "left-1", "job-1"]


@pytest.mark.parametrize(
    ("key", "value", "reruns"),
    [
        ("image", IMAGE.replace("v2", "v3"), True),
        ("command", ["bin/migrate"], True),
        ("env", {"LOG_LEVEL": "debug"}, True),
        ("secrets", [], True),
        ("timeout_s", 60.0, False),
        ("docker_host", "ssh://deploy@manager", False),
        ("network_id", "net-2", False),
        ("__provider", "pickled-by-another-python", False),
    ],
)
def test_only_a_new_image_command_environment_or_secret_runs_it_again(key, value, reruns):
    olds = {k: v for k, v in props("tcp://127.0.0.1:2375").items() if k != AUTH_KEY}
    news = {**olds, AUTH_KEY: "rotated-credentials", key: value}
    assert ReleaseStepProvider().diff("release-of-shop", olds, news).changes is reruns


# -- under the applier: the SDK's own dynamic provider host, as `pulumi up` runs it -----------------------


def declared_step(engine: FakeEngine, **changes: Any) -> DeclaredProgram:
    inputs = {
        "__provider": serialize_provider(ReleaseStepProvider()),
        **props(engine.url, **changes),
        AUTH_KEY: {SIG_KEY: SECRET_SIG, "value": AUTH},  # as the program declares it: a Pulumi secret
    }
    name = "shop-release"
    return DeclaredProgram(
        [DeclaredResource(f"urn:pulumi:t::p::{RELEASE_TYPE}::{name}", RELEASE_TYPE, name, True, "", (), inputs)]
    )


def test_the_applier_runs_it_once_per_change_through_the_sdks_host(tmp_path: Path):
    logged: list[str] = []
    applier = SwarmApplier(FakeDocker(), "t", log=logged.append, state_dir=tmp_path, clock=FakeClock())  # type: ignore[arg-type]
    with FakeEngine([COMPLETE], output=b"migrated\n") as engine:
        assert applier.apply(declared_step(engine), refresh=False).changed() == {"shop-release": ("create", ())}
        # The host takes no secrets: the credentials reach it, and the Engine, as plain text...
        assert [auth for _, auth in engine.created] == [AUTH]
        assert any("succeeded" in line for line in logged) and any(line.endswith("migrated") for line in logged)
        # ... and the state keeps them sealed, out of the outputs.
        assert AUTH not in (tmp_path / "t.json").read_text()
        assert applier.apply(declared_step(engine, timeout_s=60.0), refresh=False).changed() == {}
        assert len(engine.created) == 1
        image = IMAGE.replace("v2", "v3")
        changed = applier.apply(declared_step(engine, image=image), refresh=False).changed()
        assert changed == {"shop-release": ("update", ("image", "timeout_s"))}
        assert [spec["TaskTemplate"]["ContainerSpec"]["Image"] for spec, _ in engine.created] == [IMAGE, image]


def test_under_the_applier_a_failed_command_fails_the_run_with_its_exit_code_and_output(tmp_path: Path):
    applier = SwarmApplier(FakeDocker(), "t", log=lambda _: None, state_dir=tmp_path, clock=FakeClock())  # type: ignore[arg-type]
    output = b"ERROR: column users.email already exists\n"
    with FakeEngine([FAILED], output=output) as engine, pytest.raises(DynamicProviderError) as failed:
        applier.apply(declared_step(engine), refresh=False)
    assert "exit code 3" in str(failed.value)
    assert str(failed.value).endswith("ERROR: column users.email already exists")
    assert applier.state().resources == {}  # a failed create records nothing: the next run tries again
