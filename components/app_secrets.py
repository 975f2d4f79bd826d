"""The app's secrets as Swarm secrets, and how a pool's tasks mount them.

Each entry of appSecrets is one docker.Secret under a logical name that never
changes (swarm/naming.py app_secret_name) and no fixed physical name. A new
value is a new ``data``, which pulumi-docker can only apply by replacing the
secret (kreuzwerker resource_docker_secret.go: ``data`` is ForceNew, no
update). Auto-named, it is replaced create-first (the bridge asks for
delete-before-replace only for a fixed name; pulumi pkg/resource/deploy/
step_generator.go: "CreateBeforeDelete: the default mode"): the new secret gets
a new auto-name, the pools update onto it and roll start-first as for an
image, and the old secret is deleted after them. No name, URN, label or
preview carries the value or a hash of it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from swarm_zero_downtime.settings.secrets import AppSecret, file_variable, secret_path
from swarm_zero_downtime.swarm.naming import app_secret_name

# World-readable inside the task, as Swarm's own default: the app often runs as a
# user of its own (USER in its image), and the task's container holds nothing else.
FILE_MODE = 0o444


@dataclass(frozen=True)
class SecretMount:
    """One Swarm secret in a pool's tasks; ids only, never the value."""

    name: str
    """The file under /run/secrets, and NAME of the NAME_FILE variable."""
    secret_id: pulumi.Input[str]
    secret_name: pulumi.Input[str]


def app_secrets(app_name: str, secrets: tuple[AppSecret, ...], opts: pulumi.ResourceOptions) -> tuple[SecretMount, ...]:
    """One Swarm secret per entry; the value only ever inside a Pulumi secret."""
    mounts = []
    for secret in secrets:
        resource = docker.Secret(
            app_secret_name(app_name, secret.name),
            data=pulumi.Output.secret(base64.b64encode(secret.value.encode()).decode()),
            opts=opts,
        )
        mounts.append(SecretMount(secret.name, resource.id, resource.name))
    return tuple(mounts)


def secret_refs(mounts: tuple[SecretMount, ...]) -> list[docker.ServiceTaskSpecContainerSpecSecretArgs] | None:
    """The container spec's secrets: /run/secrets/NAME each."""
    return [
        docker.ServiceTaskSpecContainerSpecSecretArgs(
            secret_id=m.secret_id, secret_name=m.secret_name, file_name=m.name, file_mode=FILE_MODE
        )
        for m in mounts
    ] or None


def secret_env(mounts: tuple[SecretMount, ...]) -> dict[str, str]:
    """NAME_FILE=/run/secrets/NAME for each: where an app that wants a variable reads the value from."""
    return {file_variable(m.name): secret_path(m.name) for m in mounts}
