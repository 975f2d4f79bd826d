"""The release step's place in the deployment: after the app network and secrets, before the real pool."""

from __future__ import annotations

import shlex

import pulumi

from swarm_zero_downtime.components.app_secrets import FILE_MODE, SecretMount, secret_env
from swarm_zero_downtime.settings import AppSettings, ReleaseSettings
from swarm_zero_downtime.swarm.naming import release_name
from swarm_zero_downtime.swarm.registry_auth import EMPTY_AUTH, x_registry_auth
from swarm_zero_downtime.swarm.release_step import ReleaseStep


def release_step(
    app: AppSettings,
    release: ReleaseSettings,
    image: str,
    network_id: pulumi.Input[str],
    secrets: tuple[SecretMount, ...],
    opts: pulumi.ResourceOptions,
) -> ReleaseStep | None:
    """The step that runs ``release.command`` from ``image`` as the pools run it; None when there is no command,
    so a stack that sets none declares what it did before."""
    if not release.command:
        return None
    auth = x_registry_auth(image, pulumi.Config("docker").get("registryAuth"))
    step = ReleaseStep(
        release_name(app.name),
        app_name=app.name,
        image=image,
        command=release.command,
        env={**dict(app.process.env), **secret_env(secrets)},
        secrets=[
            {"secret_id": m.secret_id, "secret_name": m.secret_name, "file_name": m.name, "file_mode": FILE_MODE}
            for m in secrets
        ],
        network_id=network_id,
        timeout_s=release.timeout.seconds,
        registry_auth=None if auth == EMPTY_AUTH else auth,
        opts=opts,
    )
    pulumi.log.info(
        f"release step: `{shlex.join(release.command)}` runs from {image} before the real pool rolls,"
        " whenever the image, releaseCommand, appEnv or appSecrets change; if it fails, no pool changes",
        resource=step,
    )
    return step
