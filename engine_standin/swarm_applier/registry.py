"""pulumi-docker's ``getRegistryImage`` against a real registry, as the provider asks it.

kreuzwerker/terraform-provider-docker v4.5.0 (what pulumi-docker 5.x bridges),
internal/provider/data_source_docker_registry_image.go
``dataSourceDockerRegistryImageRead`` and ``getImageDigest``:

- the name is split by ``parseImageOptions`` (resource_docker_image_funcs.go):
  the first component is the registry when it has a '.' or a ':', is
  localhost, or the name has more than one '/'; otherwise Docker Hub
  (registry-1.docker.io, ``library/`` for a single component); no tag is
  ``latest``;
- the URL is ``<server>/v2/<repo>/manifests/<tag>``, the server being the
  ``registry_auth`` entry's canonical address for the host
  (``registry_auth``), else ``https://<registry>``: no fallback to plain HTTP;
- with an entry, the HEAD carries its username and password as HTTP Basic
  (``setupHTTPRequestForRegistry``); a 401 whose ``WWW-Authenticate`` is not
  a Bearer challenge (a registry with htpasswd asks Basic) ends in "bad
  credentials: 401 Unauthorized" (``parseAuthHeader`` fails);
- one HEAD with the Accept types of ``setupHTTPHeadersForRegistryRequests``
  (Docker manifest v2 and list, OCI manifest and index); the digest is the
  ``Docker-Content-Digest`` header (a HEAD has no body to hash);
- any error is retried once with ``fallback``, which replaces the Accept
  types with the v1 signed manifest; the error reported is the second one's,
  wrapped as "Got error when attempting to fetch image version ...".

The provider trusts the system's CAs; here ``ca_file`` names the test
registry's CA, the one the machine's dockerd trusts too. A Bearer challenge
(a token service, as Docker Hub's) is not modelled and refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

from engine_standin.swarm_applier.registry_auth import AuthConfig, RegistryAuthNotModelled, auth_for_registry
from engine_standin.swarm_applier.report import ApplyError

DOCKER_HUB = "registry-1.docker.io"
ACCEPT = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)
FALLBACK_ACCEPT = "application/vnd.docker.distribution.manifest.v1+prettyjws"
TIMEOUT_S = 30.0


def parse_image_options(image: str) -> tuple[str, str, str]:
    """(registry, repository, tag) as ``parseImageOptions`` and the data source's read split an image name."""
    first_slash = image.find("/")
    registry = ""
    if image.count("/") > 1 or (
        first_slash != -1 and (any(c in image[:first_slash] for c in ".:") or image[:first_slash] == "localhost")
    ):
        registry = image[:first_slash]
    # The tag is whatever follows the first ':' after the registry.
    rest = image[len(registry) :].lstrip("/") if registry else image
    repository, _, tag = rest.partition(":")
    if "@" in tag:  # "prefer pinned digest over tag name"
        tag = tag.split("@", 1)[1]
    if not registry:
        registry = DOCKER_HUB
        if "/" not in repository:
            repository = f"library/{repository}"
    return registry, repository, tag or "latest"


@dataclass(frozen=True)
class RegistryDigests:
    """Answers ``getRegistryImage`` by asking the registry the image names, over HTTPS, trusting ``ca_file``,
    with the provider's ``auth_configs`` (``registry_auth.provider_auth_configs``)."""

    ca_file: Path
    auth_configs: Mapping[str, AuthConfig] = field(default_factory=dict)

    def __call__(self, image: str) -> str:
        registry, repository, tag = parse_image_options(image)
        auth = auth_for_registry(registry, self.auth_configs)
        server = auth.server_address if auth else f"https://{registry}"
        url = f"{server}/v2/{repository}/manifests/{tag}"
        try:
            return self._head(url, ", ".join(ACCEPT), auth)
        except RegistryAuthNotModelled:
            raise
        except ApplyError:
            try:
                return self._head(url, FALLBACK_ACCEPT, auth)
            except ApplyError as error:
                raise ApplyError(
                    f"Got error when attempting to fetch image version {repository}:{tag} from registry: {error}"
                ) from error

    def _head(self, url: str, accept: str, auth: AuthConfig | None) -> str:
        try:
            response = requests.head(
                url,
                headers={"Accept": accept},
                auth=(auth.username, auth.password) if auth else None,
                verify=str(self.ca_file),
                timeout=TIMEOUT_S,
            )
        except requests.RequestException as error:
            raise ApplyError(f"Error during registry request: {error}") from error
        if response.status_code == 401:
            if response.headers.get("WWW-Authenticate", "").startswith("Bearer"):
                raise RegistryAuthNotModelled(f"{url}: the registry asks for a token (Bearer); not modelled")
            raise ApplyError(f"bad credentials: {response.status_code} {response.reason}")
        if response.status_code != 200:
            raise ApplyError(f"got bad response from registry: {response.status_code} {response.reason}")
        digest = response.headers.get("Docker-Content-Digest", "")
        if not digest:
            raise ApplyError("error reading registry response body: a HEAD answer has no body to hash")
        return digest
