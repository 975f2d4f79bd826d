"""A small Pulumi program for the applier's secret tests: a docker Secret and a service that reads it.

Config (this project's namespace): ``password`` (required, a secret), ``generation``
(the secret's logical name suffix: a new generation is a rotation to a new secret),
``stopSignal``.
"""

import base64

import pulumi
import pulumi_docker as docker

config = pulumi.Config()
generation = config.get("generation") or "1"
password = docker.Secret(
    f"db-password-{generation}",
    data=config.require_secret("password").apply(lambda text: base64.b64encode(text.encode()).decode()),
    labels=[docker.SecretLabelArgs(label="app", value="db")],
)
docker.Service(
    "db",
    task_spec=docker.ServiceTaskSpecArgs(
        container_spec=docker.ServiceTaskSpecContainerSpecArgs(
            image="postgres:16",
            stop_signal=config.get("stopSignal") or "SIGINT",
            secrets=[
                docker.ServiceTaskSpecContainerSpecSecretArgs(
                    secret_id=password.id, secret_name=password.name, file_name="/run/secrets/db-password"
                )
            ],
        )
    ),
)
