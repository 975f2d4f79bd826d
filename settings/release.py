"""The release section: a command run once per deploy from the new image, before the real pool rolls."""

from __future__ import annotations

from dataclasses import dataclass

from swarm_zero_downtime.settings.parsers import DurationRule, Rule
from swarm_zero_downtime.settings.process import ENTRIES_MAX, WordList
from swarm_zero_downtime.settings.reader import ConfigReader, complete, section_reader
from swarm_zero_downtime.swarm.values import HOUR, SECOND, Duration

RULES: dict[str, Rule[object]] = {
    "releaseCommand": WordList(
        allowed=(
            'a list of words such as ["bin/rails", "db:migrate"] (text, numbers or true/false; no NUL;'
            f" at most {ENTRIES_MAX}), or [] for no release step"
        )
    ),
    "releaseTimeout": DurationRule(SECOND, 6 * HOUR),
}


@dataclass(frozen=True)
class ReleaseSettings:
    command: tuple[str, ...]
    """Run in place of the image's ENTRYPOINT and CMD; empty: no release step."""
    timeout: Duration
    """How long the release step may take, its image pull included."""


def read_release(r: ConfigReader) -> ReleaseSettings | None:
    read = section_reader(r, RULES)
    return complete(ReleaseSettings, command=read("releaseCommand"), timeout=read("releaseTimeout"))
