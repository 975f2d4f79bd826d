"""The mock runtime's invokes: getRegistryImage answered by a digest function, any other invoke refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from offline_runner.mock_program import (
    REGISTRY_IMAGE,
    DeclaredProgram,
    Digest,
    UnmodelledInvoke,
    mock_digest,
    run_program,
)

REGISTRY_PROGRAM = """
import pulumi
import pulumi_docker as docker

found = docker.get_registry_image(name="registry.example.com:5000/team/app:v2")
pulumi.export("name", found.name)
pulumi.export("digest", found.sha256_digest)
pulumi.export("id", found.id)
"""

CAUGHT_PROGRAM = """
import pulumi
import pulumi_docker as docker

try:
    docker.get_registry_image(name="team/app:v2")
except Exception as error:
    pulumi.export("error", str(error))
"""

NETWORK_PROGRAM = """
import pulumi_docker as docker

docker.get_network(name="x")
"""


class RegistryDown(Exception):
    pass


def program_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "program.py"
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, digest: Digest = mock_digest) -> DeclaredProgram:
    return run_program({}, "test", program=path, digest=digest)


def test_mock_digest_is_a_sha256_digest_stable_per_reference():
    digest = mock_digest("nginx:1.30")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    assert mock_digest("nginx:1.30") == digest
    assert mock_digest("nginx:1.31") != digest


def test_get_registry_image_is_answered_by_mock_digest_by_default(tmp_path):
    outputs = run(program_file(tmp_path, REGISTRY_PROGRAM)).outputs
    image = "registry.example.com:5000/team/app:v2"
    assert outputs == {"name": image, "digest": mock_digest(image), "id": mock_digest(image)}


def test_get_registry_image_asks_the_digest_function_with_the_name_as_given(tmp_path):
    asked: list[str] = []

    def registry(image: str) -> str:
        asked.append(image)
        return "sha256:" + "f" * 64

    outputs = run(program_file(tmp_path, REGISTRY_PROGRAM), digest=registry).outputs
    assert asked == ["registry.example.com:5000/team/app:v2"]
    assert outputs["digest"] == "sha256:" + "f" * 64


def test_any_other_invoke_is_refused(tmp_path):
    message = f"docker:index/getNetwork:getNetwork: the mock runtime answers only {REGISTRY_IMAGE}"
    with pytest.raises(UnmodelledInvoke, match=re.escape(message)):
        run(program_file(tmp_path, NETWORK_PROGRAM))


# In the engine a provider's failed invoke comes back as a gRPC error: the SDK raises it in the program as
# "invoke of <token> failed: ..." and nothing else, so a program can catch it (swarm/image_pin.py turns it
# into ImageNotResolved). Here the digest function's exception escapes the mock monitor instead: the SDK
# records it as an unhandled RPC error and run_program raises it, whatever the program did with it.
def test_a_failed_digest_reaches_the_program_as_a_failed_invoke(tmp_path):
    def registry(image: str) -> str:
        raise RegistryDown(f"{image}: 404 Not Found")

    outputs = run(program_file(tmp_path, CAUGHT_PROGRAM), digest=registry).outputs
    assert outputs["error"].startswith(f"invoke of {REGISTRY_IMAGE} failed: ")
    assert "team/app:v2: 404 Not Found" in outputs["error"]
