"""RegistryDigests: getRegistryImage as kreuzwerker v4.5.0 asks a registry, against a real local HTTPS server."""

from __future__ import annotations

import base64
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from engine_standin.swarm_applier import ApplyError
from engine_standin.swarm_applier.registry import RegistryDigests, parse_image_options
from engine_standin.swarm_applier.registry_auth import AuthConfig, RegistryAuthNotModelled

DIGEST = "sha256:" + "d" * 64
# data_source_docker_registry_image.go setupHTTPHeadersForRegistryRequests: four Accept values, or this one alone.
V2_ACCEPT = {
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
}
V1_ACCEPT = {"application/vnd.docker.distribution.manifest.v1+prettyjws"}


@dataclass
class Request:
    method: str
    path: str
    accept: set[str]
    authorization: str | None = None


@dataclass
class Registry:
    """A registry on 127.0.0.1 over HTTPS: its address, what it was asked, and the CA its certificate is from."""

    address: str
    ca_file: Path
    requests: list[Request] = field(default_factory=list)


MANIFESTS = {"/v2/team/app/manifests/v1": DIGEST, "/v2/basic/app/manifests/v1": DIGEST}
PRIVATE = "/v2/private/"
# A Distribution registry with htpasswd: HTTP Basic, answered with a Basic challenge.
BASIC = "/v2/basic/"
BASIC_USER = ("deploy", "s3cret&<pw>")
BASIC_AUTHORIZATION = "Basic " + base64.b64encode(":".join(BASIC_USER).encode()).decode()


def handler(requests: list[Request]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            accept = {v.strip() for value in self.headers.get_all("Accept", []) for v in value.split(",")}
            authorization = self.headers.get("Authorization")
            requests.append(Request("HEAD", self.path, accept, authorization))
            if self.path.startswith(BASIC) and authorization != BASIC_AUTHORIZATION:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="test"')
            elif self.path in MANIFESTS:
                self.send_response(200)
                self.send_header("Docker-Content-Digest", MANIFESTS[self.path])
                self.send_header("Content-Type", "application/vnd.oci.image.index.v1+json")
            elif self.path.startswith(PRIVATE):
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Bearer realm="https://auth.example/token",service="registry"')
            else:
                self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def registry(ca: trustme.CA, tmp_path: Path) -> Iterator[Registry]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    requests: list[Request] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(requests))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    try:
        yield Registry(f"127.0.0.1:{server.server_address[1]}", ca_file, requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_digest_is_the_docker_content_digest_header(registry: Registry):
    assert RegistryDigests(registry.ca_file)(f"{registry.address}/team/app:v1") == DIGEST
    assert registry.requests == [Request("HEAD", "/v2/team/app/manifests/v1", V2_ACCEPT)]


def test_a_missing_tag_is_asked_again_with_the_v1_accept_type_then_fails(registry: Registry):
    with pytest.raises(ApplyError) as failed:
        RegistryDigests(registry.ca_file)(f"{registry.address}/team/app:missing")
    assert str(failed.value) == (
        "Got error when attempting to fetch image version team/app:missing from registry:"
        " got bad response from registry: 404 Not Found"
    )
    assert registry.requests == [
        Request("HEAD", "/v2/team/app/manifests/missing", V2_ACCEPT),
        Request("HEAD", "/v2/team/app/manifests/missing", V1_ACCEPT),
    ]


def test_a_registry_that_asks_for_a_token_is_refused(registry: Registry):
    with pytest.raises(RegistryAuthNotModelled, match="Bearer"):
        RegistryDigests(registry.ca_file)(f"{registry.address}/private/app:v1")
    assert [r.path for r in registry.requests] == ["/v2/private/app/manifests/v1"]


def test_the_registry_auth_entry_for_the_host_is_sent_as_http_basic(registry: Registry):
    auth = {registry.address: AuthConfig(f"https://{registry.address}", *BASIC_USER)}
    assert RegistryDigests(registry.ca_file, auth)(f"{registry.address}/basic/app:v1") == DIGEST
    assert [r.authorization for r in registry.requests] == [BASIC_AUTHORIZATION]


@pytest.mark.parametrize("user", [None, ("deploy", "wrong")], ids=["no entry", "a wrong password"])
def test_a_basic_challenge_without_the_right_credentials_is_bad_credentials(
    registry: Registry, user: tuple[str, str] | None
):
    auth = {registry.address: AuthConfig(f"https://{registry.address}", *user)} if user else {}
    with pytest.raises(ApplyError) as failed:
        RegistryDigests(registry.ca_file, auth)(f"{registry.address}/basic/app:v1")
    assert str(failed.value) == (
        "Got error when attempting to fetch image version basic/app:v1 from registry: bad credentials: 401 Unauthorized"
    )
    assert len(registry.requests) == 2  # the fallback asks again
    assert BASIC_USER[1] not in str(failed.value)


def test_another_hosts_entry_is_not_sent(registry: Registry):
    auth = {"other.example": AuthConfig("https://other.example", *BASIC_USER)}
    with pytest.raises(ApplyError, match="bad credentials"):
        RegistryDigests(registry.ca_file, auth)(f"{registry.address}/basic/app:v1")
    assert {r.authorization for r in registry.requests} == {None}


def test_a_registry_that_does_not_answer_is_a_request_error(ca: trustme.CA, tmp_path: Path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with pytest.raises(ApplyError) as failed:
        RegistryDigests(ca_file)(f"127.0.0.1:{port}/team/app:v1")
    message = str(failed.value)
    assert message.startswith(
        "Got error when attempting to fetch image version team/app:v1 from registry: Error during registry request: "
    )


def test_a_certificate_from_another_ca_is_not_trusted(registry: Registry, tmp_path: Path):
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    with pytest.raises(ApplyError) as failed:
        RegistryDigests(other)(f"{registry.address}/team/app:v1")
    assert "Error during registry request: " in str(failed.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value)
    assert registry.requests == []  # no request got through the handshake


@pytest.mark.parametrize(
    "image, parsed",
    [
        ("127.0.0.1:5000/a/b:t", ("127.0.0.1:5000", "a/b", "t")),
        ("nginx:1.30", ("registry-1.docker.io", "library/nginx", "1.30")),
        ("nginx", ("registry-1.docker.io", "library/nginx", "latest")),
        ("team/app", ("registry-1.docker.io", "team/app", "latest")),
        ("localhost/x", ("localhost", "x", "latest")),
        ("localhost:5000/x", ("localhost:5000", "x", "latest")),
        ("a.b/c", ("a.b", "c", "latest")),
        ("a/b/c:t", ("a", "b/c", "t")),  # more than one '/': the first component is a registry
        # "prefer pinned digest over tag name"
        (f"a.b/c:t@{DIGEST}", ("a.b", "c", DIGEST)),
        (f"nginx:1.30@{DIGEST}", ("registry-1.docker.io", "library/nginx", DIGEST)),
    ],
)
def test_parse_image_options(image: str, parsed: tuple[str, str, str]):
    assert parse_image_options(image) == parsed


# resource_docker_image_funcs.go parseImageOptions (v4.5.0) takes the tag from the first ':' after the
# registry, so a digest without a tag splits inside the digest; and only a registry it had to fill in
# (Docker Hub, none named) gets "library/". The program never asks for either: pin() skips an image
# with a digest, and Docker's stored form never names registry-1.docker.io.
@pytest.mark.parametrize(
    "image, parsed",
    [
        (f"a.b/c@{DIGEST}", ("a.b", "c@sha256", "d" * 64)),
        ("registry-1.docker.io/nginx:1.30", ("registry-1.docker.io", "nginx", "1.30")),
    ],
)
def test_parse_image_options_as_the_go_does_on_rare_names(image: str, parsed: tuple[str, str, str]):
    assert parse_image_options(image) == parsed
