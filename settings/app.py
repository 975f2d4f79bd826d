"""The app section: which image, on which port, under which name, and how its process runs."""

from __future__ import annotations

from dataclasses import dataclass

from swarm_zero_downtime.settings.parsers import HOSTNAME, PINNABLE_TAG, PORT, REPOSITORY, Rule, dns_label
from swarm_zero_downtime.settings.process import AppProcess, EnvironmentMap, StopSignal, WordList
from swarm_zero_downtime.settings.reader import ConfigReader, complete, section_reader
from swarm_zero_downtime.settings.secrets import AppSecret, read_secrets
from swarm_zero_downtime.swarm.naming import APP_NAME_MAX

RULES: dict[str, Rule[object]] = {
    "appName": dns_label(APP_NAME_MAX),
    "appImage": REPOSITORY,
    "imageTag": PINNABLE_TAG,
    "appPort": PORT,
    "publicHost": HOSTNAME,
    "appEnv": EnvironmentMap(),
    "appCommand": WordList(),
    "appArgs": WordList(),
    "appStopSignal": StopSignal(),
}
# appSecrets is read by settings/secrets.py, as a secret.


@dataclass(frozen=True)
class AppSettings:
    name: str
    repository: str
    tag: str
    port: int
    public_host: str
    process: AppProcess
    """The same for both pools."""
    secrets: tuple[AppSecret, ...] = ()
    """Mounted into both pools' tasks; no repr shows a value."""

    @property
    def image(self) -> str:
        return f"{self.repository}:{self.tag}"


def read_app(r: ConfigReader) -> AppSettings | None:
    read = section_reader(r, RULES)
    # Anyone who can inspect the service reads its environment, and so does
    # `pulumi preview`: a secret has no place there.
    r.require(
        not r.is_secret("appEnv"),
        "appEnv",
        "holds a secret: environment variables are stored in plain text in the Swarm service"
        " (`docker service inspect` shows them); keep secrets out of appEnv",
    )
    return complete(
        AppSettings,
        name=read("appName"),
        repository=read("appImage"),
        tag=read("imageTag"),
        port=read("appPort"),
        public_host=read("publicHost"),
        process=complete(
            AppProcess,
            env=read("appEnv"),
            command=read("appCommand"),
            args=read("appArgs"),
            stop_signal=read("appStopSignal"),
        ),
        secrets=read_secrets(r),
    )
