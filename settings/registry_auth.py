"""The credentials pulumi-docker pulls a private image with: the provider's own ``docker:registryAuth``.

pulumi-docker reads the key itself. ``getRegistryImage`` (the digest every
image is pinned to at preview) and every service create and update (the
``X-Registry-Auth`` Swarm keeps for every node's pulls) use the entry for the
image's registry host. A service's own ``auth`` block would do the same for
one service, but it is ForceNew in pulumi-docker (kreuzwerker
resource_docker_service.go): adding it to a running stack or rotating the
password would replace every service, the edge's included.

The program only refuses what the provider would take silently: a password
kept in plain text in the stack file, or an entry a pull cannot use. No
problem shows a value of the key.
"""

from __future__ import annotations

import json
import re
from typing import Any

from swarm_zero_downtime.settings.reader import ConfigReader, ConfigSource

KEY = "registryAuth"
FIELDS = {"address", "username", "password", "configFile", "configFileContent", "authDisabled"}
TEXT_FIELDS = FIELDS - {"authDisabled"}
# A host, or a host and port, with the scheme the provider allows in front and any path after.
ADDRESS = re.compile(r"(https?://)?[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::[0-9]{1,5})?(/.*)?", re.ASCII)
SET_SECRET = "pulumi config set --secret --path 'docker:registryAuth[0].password' PASSWORD"


def check_registry_auth(r: ConfigReader, provider: ConfigSource) -> None:
    """Note in ``r`` every problem of ``docker:registryAuth`` (read from ``provider``, the docker namespace)."""
    raw = provider.get(KEY)
    if raw is None:
        return
    full_key = provider.full_key(KEY)
    try:
        entries: Any = json.loads(raw)
    except (ValueError, RecursionError):
        entries = None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        r.problems.append(
            f"{full_key}: must be a list of {{address, username, password}} objects,"
            " as `pulumi config set --path 'docker:registryAuth[0].address' registry.example.com` writes it"
        )
        return
    for index, entry in enumerate(entries):
        _check_entry(r, f"{full_key}[{index}]", entry)
    if any(entry.get("password") for entry in entries) and not ConfigReader(provider).is_secret(KEY):
        r.problems.append(
            f"{full_key}: a password is stored in plain text in the stack file; set it with `{SET_SECRET}`"
        )


def _check_entry(r: ConfigReader, where: str, entry: dict[str, Any]) -> None:
    unknown = sorted(set(entry) - FIELDS)
    if unknown:
        r.problems.append(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(FIELDS))}")
    wrong = sorted(k for k in TEXT_FIELDS & set(entry) if not isinstance(entry[k], str))
    if wrong:
        r.problems.append(f"{where}: {', '.join(wrong)} must be text")
        return
    if not ADDRESS.fullmatch(str(entry.get("address", ""))):
        r.problems.append(f"{where}.address: must be a registry host such as registry.example.com or host:5000")
    if entry.get("username") and not entry.get("password"):
        r.problems.append(f"{where}.password: missing for username; set it with `{SET_SECRET}`")
