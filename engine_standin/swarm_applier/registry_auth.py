"""The provider's ``registryAuth``: which credentials pulumi-docker gives a registry and a service.

kreuzwerker/terraform-provider-docker v4.5.0 (what pulumi-docker 5.x bridges):

- provider.go ``providerSetToRegistryAuth``: each ``registry_auth`` entry
  becomes an AuthConfig keyed by its address's host (``convertToHostname`` of
  ``canonicalizeRegistryAddress``: ``https://`` added unless the address says
  ``http://``, any path dropped), with that canonical address as its
  ServerAddress. An entry without a username reads a Docker config file
  (``config_file``, default ``~/.docker/config.json``) instead: not modelled,
  refused, as are ``auth_disabled`` and the cloud registries whose tokens the
  provider rewrites (ECR, ghcr.io, gcr.io, Azure);
- resource_docker_registry_image_funcs.go ``getAuthConfigForRegistry`` (what
  ``getRegistryImage`` asks with) and resource_docker_service_funcs.go
  ``fromRegistryAuth`` (what a service without its own ``auth`` block gets):
  the entry for the registry's host, else for a Docker Hub host any Docker Hub
  entry (``getDockerHubAuthConfigFromMap``);
- ``retrieveAndMarshalAuth``: the service create and update always send
  ``X-Registry-Auth``, ``json.Marshal`` of that AuthConfig (``{}`` when there
  is none) in base64 with padding (``base64.URLEncoding``). Swarm keeps it in
  the service's ``PullOptions`` for every node's pulls; an empty one replaces
  credentials an earlier update gave (moby daemon/cluster/services.go).

The header's encoding and the lookup by host are the program's own
(swarm/registry_auth.py), which its release step sends as the provider does.

The stack config holds the list as `pulumi config set --path
'docker:registryAuth[0].address' ...` writes it: JSON with the bridge's
camelCase names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine_standin.swarm_applier.report import ApplyError
from swarm_zero_downtime.swarm.registry_auth import (
    EMPTY_AUTH,
    auth_for_registry,
    canonical_address,
    encode_auth,
    host_of,
    registry_of,
)

REGISTRY_AUTH_KEY = "docker:registryAuth"
# authentication_helpers.go setupHTTPRequestForRegistry and providerSetToRegistryAuth treat these apart.
TOKEN_REWRITING_HOSTS = ("ghcr.io", "gcr.io")
TOKEN_REWRITING_SUFFIXES = (".amazonaws.com", ".azurecr.io")
MODELLED_FIELDS = {"address", "username", "password"}


class RegistryAuthNotModelled(ApplyError):
    """Registry credentials the stand-in does not model (a Docker config file, a token service, a cloud registry)."""


@dataclass(frozen=True)
class AuthConfig:
    """Docker's registry.AuthConfig as the provider fills it from one ``registry_auth`` entry."""

    server_address: str
    username: str
    password: str = field(repr=False)

    def x_registry_auth(self) -> str:
        return encode_auth({"username": self.username, "password": self.password, "serveraddress": self.server_address})


def provider_auth_configs(config: Mapping[str, str]) -> dict[str, AuthConfig]:
    """The provider's AuthConfigs from the stack's ``docker:registryAuth``, keyed by host."""
    raw = config.get(REGISTRY_AUTH_KEY)
    if raw is None:
        return {}
    try:
        entries: Any = json.loads(raw)
    except ValueError as error:
        raise ApplyError(f"{REGISTRY_AUTH_KEY}: not a list of objects ({error.__class__.__name__})") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ApplyError(f"{REGISTRY_AUTH_KEY}: not a list of objects")
    configs = {}
    for index, entry in enumerate(entries):
        where = f"{REGISTRY_AUTH_KEY}[{index}]"
        unmodelled = sorted(set(entry) - MODELLED_FIELDS)
        if unmodelled:
            raise RegistryAuthNotModelled(
                f"{where}: {', '.join(unmodelled)} not modelled (only {sorted(MODELLED_FIELDS)})"
            )
        if not entry.get("username"):
            raise RegistryAuthNotModelled(f"{where}: no username: the provider would read a Docker config file")
        address = canonical_address(str(entry.get("address", "")))
        host = host_of(address)
        if host in TOKEN_REWRITING_HOSTS or host.endswith(TOKEN_REWRITING_SUFFIXES):
            raise RegistryAuthNotModelled(f"{where}: {host}: the provider rewrites its tokens; not modelled")
        configs[host] = AuthConfig(address, str(entry["username"]), str(entry.get("password", "")))
    return configs


def service_registry_auth(image: str, configs: Mapping[str, AuthConfig]) -> str:
    """``X-Registry-Auth`` of a service create or update for ``image`` as declared (``fromRegistryAuth``)."""
    registry = registry_of(image)
    found = auth_for_registry(registry, configs) if registry else None
    return found.x_registry_auth() if found else EMPTY_AUTH
