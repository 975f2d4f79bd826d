"""The app section: which image, on which port, under which name."""

from __future__ import annotations

from dataclasses import dataclass

from settings.parsers import parse_dns_label, parse_hostname, parse_port, parse_repository, parse_tag
from settings.reader import ConfigReader, complete

# "-backup" is the longest suffix the program appends; 40 keeps the aliases DNS labels.
APP_NAME_MAX = 40


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
    return complete(
        AppSettings,
        name=r.read("appName", parse_dns_label, APP_NAME_MAX),
        repository=r.read("appImage", parse_repository),
        tag=r.read("imageTag", parse_tag),
        port=r.read("appPort", parse_port),
        public_host=r.read("publicHost", parse_hostname),
    )
