"""The ``X-Registry-Auth`` pulumi-docker sends with a service create, for a service the program creates itself.

Swarm keeps a service's X-Registry-Auth for every node's pulls of its image.
pulumi-docker fills it from the provider's ``docker:registryAuth`` (kreuzwerker
terraform-provider-docker v4.5.0): the entry whose address's host is the
image's registry (``convertToHostname`` of ``canonicalizeRegistryAddress``:
``https://`` unless the address says ``http://``, no path), else for a Docker
Hub host any Docker Hub entry (``getDockerHubAuthConfigFromMap``); sent as
``json.Marshal`` of Docker's AuthConfig in padded URL-safe base64
(``retrieveAndMarshalAuth``), ``{}`` when there is none. A job the release
step creates through the Docker API gets the same, so it pulls what the pools
pull. Entries that name a Docker config file instead of a username are not
read here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

DOCKER_HUB_HOSTS = ("registry-1.docker.io", "index.docker.io", "docker.io", "registry.hub.docker.com")


def encode_auth(fields: Mapping[str, str]) -> str:
    """``json.Marshal`` of a registry.AuthConfig (omitempty; Go escapes <, > and &), then ``base64.URLEncoding``."""
    text = json.dumps({k: v for k, v in fields.items() if v}, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return base64.urlsafe_b64encode(text.encode()).decode()


EMPTY_AUTH = encode_auth({})


def host_of(address: str) -> str:
    """``convertToHostname``: the address without its scheme and path."""
    for scheme in ("http://", "https://"):
        if address.startswith(scheme):
            address = address[len(scheme) :]
            break
    return address.split("/", 1)[0]


def canonical_address(address: str) -> str:
    """``canonicalizeRegistryAddress``: https:// unless the address says http://, nothing after the host."""
    scheme = "http://" if address.startswith("http://") else "https://"
    return scheme + host_of(address)


def registry_of(image: str) -> str | None:
    """The registry host ``fromRegistryAuth`` looks up for ``image`` as declared; None for a name without one."""
    image = image.replace("http://", "", 1).replace("https://", "", 1)
    return image.split("/", 1)[0] if "/" in image else None


def auth_for_registry(registry: str, configs: Mapping[str, T]) -> T | None:
    """``getAuthConfigForRegistry``: the entry for ``registry`` (a host), or a Docker Hub one for a Docker Hub host."""
    if registry in configs:
        return configs[registry]
    if registry in DOCKER_HUB_HOSTS:
        return next((configs[h] for h in DOCKER_HUB_HOSTS if h in configs), None)
    return None


def x_registry_auth(image: str, registry_auth: str | None) -> str:
    """What pulumi-docker sends for ``image`` with ``registry_auth`` (the stack's ``docker:registryAuth`` JSON)."""
    entries: Any = json.loads(registry_auth) if registry_auth else []
    by_host = {
        host_of(canonical_address(str(e.get("address", "")))): e
        for e in entries
        if isinstance(e, dict) and e.get("username")
    }
    registry = registry_of(image)
    found = auth_for_registry(registry, by_host) if registry else None
    if found is None:
        return EMPTY_AUTH
    return encode_auth(
        {
            "username": str(found["username"]),
            "password": str(found.get("password", "")),
            "serveraddress": canonical_address(str(found.get("address", ""))),
        }
    )
