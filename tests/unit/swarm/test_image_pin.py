"""Every image the program declares is pinned to its tag's digest (swarm/image_pin.py), run through the program."""

from __future__ import annotations

import grpc  # type: ignore[import-untyped]
import pytest

from offline_runner.mock_program import REGISTRY_IMAGE, DeclaredProgram, Digest, mock_digest, run_program
from offline_runner.resource_types import SERVICE
from offline_runner.stack_config import load_stack_config
from swarm_zero_downtime.swarm.image_pin import ImageNotResolved, pin
from tests.unit.components.test_image_tag_change import POOL_SPEC_LABEL, SPEC_LABEL_PATH, changed_inputs

IMAGE = "taskSpec.containerSpec.image"
APP_DIGEST = "sha256:" + "a" * 64
NGINX_DIGEST = "sha256:" + "b" * 64
EDGE_DIGEST = "sha256:" + "c" * 64
MOVED = "sha256:" + "1" * 64


class Recorder:
    """A registry that answers ``mock_digest`` and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, image: str) -> str:
        self.asked.append(image)
        return mock_digest(image)


class EngineInvokeError(grpc.RpcError):
    """What the engine answers when the provider's invoke fails: a gRPC error with the provider's message."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self._details = details

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._details


def dev(digest: Digest = mock_digest, **overrides: object) -> DeclaredProgram:
    return run_program(load_stack_config("dev", overrides=overrides), "dev", digest=digest)


def image(program: DeclaredProgram, service: str) -> str:
    return str(program.get(SERVICE, service).inputs["taskSpec"]["containerSpec"]["image"])


def test_every_image_is_pinned_in_the_form_docker_stores_it():
    asked = Recorder()
    program = dev(asked, nginxImage="docker.io/library/nginx:1.30", edgeImage="nginx")
    assert image(program, "webapp-real") == "windowforsun/test-web:latest@" + mock_digest(
        "windowforsun/test-web:latest"
    )
    assert image(program, "webapp-backup") == image(program, "webapp-real")
    assert image(program, "webapp-nginx") == "nginx:1.30@" + mock_digest("nginx:1.30")
    assert image(program, "webapp-edge") == "nginx:latest@" + mock_digest("nginx:latest")
    # The registry is asked for the stored form, once per image.
    assert asked.asked == ["windowforsun/test-web:latest", "nginx:1.30", "nginx:latest"]


def test_an_image_given_pinned_is_declared_as_given_and_never_looked_up():
    asked = Recorder()
    program = dev(
        asked,
        imageTag=f"v1@{APP_DIGEST}",
        nginxImage=f"nginx:1.30-alpine@{NGINX_DIGEST}",
        edgeImage=f"nginx@{EDGE_DIGEST}",
    )
    assert image(program, "webapp-real") == f"windowforsun/test-web:v1@{APP_DIGEST}"
    assert image(program, "webapp-backup") == f"windowforsun/test-web:v1@{APP_DIGEST}"
    assert image(program, "webapp-nginx") == f"nginx:1.30-alpine@{NGINX_DIGEST}"
    assert image(program, "webapp-edge") == f"nginx@{EDGE_DIGEST}"
    assert asked.asked == []


def test_only_the_images_without_a_digest_are_looked_up():
    asked = Recorder()
    program = dev(asked, imageTag=f"v1@{APP_DIGEST}")
    assert image(program, "webapp-real") == f"windowforsun/test-web:v1@{APP_DIGEST}"
    assert asked.asked == ["nginx:1.30-alpine", "nginx:1.30-alpine"]  # the L7 tier's, then the edge's


def test_pin_returns_a_pinned_image_without_an_invoke(monkeypatch: pytest.MonkeyPatch):
    invoked: list[str] = []
    monkeypatch.setattr(
        "swarm_zero_downtime.swarm.image_pin.docker.get_registry_image", lambda name, opts=None: invoked.append(name)
    )
    assert pin(f"nginx:1.30@{NGINX_DIGEST}") == f"nginx:1.30@{NGINX_DIGEST}"
    assert pin(f"docker.io/library/nginx:1.30@{NGINX_DIGEST}") == f"nginx:1.30@{NGINX_DIGEST}"
    assert invoked == []


def test_a_digest_the_registry_does_not_give_fails_the_program_naming_the_image():
    def registry(image: str) -> str:
        if image == "nginx:1.30-alpine":
            raise EngineInvokeError(
                f"invocation of {REGISTRY_IMAGE} returned an error: Got error when attempting to fetch image"
                " version library/nginx:1.30-alpine from registry: got bad response from registry: 404 Not Found"
            )
        return mock_digest(image)

    with pytest.raises(ImageNotResolved) as failed:
        dev(registry)
    message = str(failed.value)
    assert message.startswith("image nginx:1.30-alpine: cannot read its digest from the registry (")
    assert "got bad response from registry: 404 Not Found" in message
    for key in ("imageTag", "nginxImage", "edgeImage"):
        assert key in message
    assert "tag@sha256:<64 hex>" in message


def test_an_image_tag_change_changes_only_the_app_images():
    before, after = dev(imageTag="v1"), dev(imageTag="v2")
    assert changed_inputs(before, after) == {
        "webapp-real": [POOL_SPEC_LABEL, IMAGE],
        "webapp-backup": [POOL_SPEC_LABEL, IMAGE],
        "webapp-real-rollout": ["image", "spec_sha256"],
    }
    assert image(after, "webapp-real") == "windowforsun/test-web:v2@" + mock_digest("windowforsun/test-web:v2")


def moved(reference: str) -> Digest:
    """The registry after a new push of ``reference``: its tag now names another digest."""
    return lambda image: MOVED if image == reference else mock_digest(image)


def test_a_moved_app_tag_is_a_rollout_of_the_app_pools():
    before, after = dev(), dev(moved("windowforsun/test-web:latest"))
    # Same config, new digest: the preview shows what an imageTag change shows.
    assert changed_inputs(before, after) == {
        "webapp-real": [POOL_SPEC_LABEL, IMAGE],
        "webapp-backup": [POOL_SPEC_LABEL, IMAGE],
        "webapp-real-rollout": ["image", "spec_sha256"],
    }
    assert image(after, "webapp-real") == f"windowforsun/test-web:latest@{MOVED}"
    assert image(after, "webapp-backup") == f"windowforsun/test-web:latest@{MOVED}"


def test_a_moved_nginx_tag_rolls_every_service_that_runs_it():
    # nginxImage and edgeImage default to the same tag: both tiers move with it.
    before, after = dev(), dev(moved("nginx:1.30-alpine"))
    assert changed_inputs(before, after) == {
        "webapp-nginx": [SPEC_LABEL_PATH, IMAGE],
        "webapp-nginx-rollout": ["image", "spec_sha256"],
        "webapp-edge": [SPEC_LABEL_PATH, IMAGE],
        "webapp-edge-rollout": ["image", "spec_sha256"],
    }
    assert image(after, "webapp-nginx") == image(after, "webapp-edge") == f"nginx:1.30-alpine@{MOVED}"
