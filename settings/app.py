"""The app section: which image, on which port, under which name."""

from __future__ import annotations

from dataclasses import dataclass

from settings.parsers import HOSTNAME, PINNABLE_TAG, PORT, REPOSITORY, Rule, dns_label
from settings.reader import ConfigReader, complete, section_reader
from swarm.naming import APP_NAME_MAX

RULES: dict[str, Rule[object]] = {
    "appName": dns_label(APP_NAME_MAX),
    "appImage": REPOSITORY,
    "imageTag": PINNABLE_TAG,
    "appPort": PORT,
    "publicHost": HOSTNAME,
}


@dataclass(frozen=True)
class AppSettings:
    name: str
    repository: str
    tag: str
    port: int
    public_host: str

    @property
    def image(self) -> str:
        return f"{self.repository}:{self.tag}"


def read_app(r: ConfigReader) -> AppSettings | None:
    read = section_reader(r, RULES)
    return complete(
        AppSettings,
        name=read("appName"),
        repository=read("appImage"),
        tag=read("imageTag"),
        port=read("appPort"),
        public_host=read("publicHost"),
    )
