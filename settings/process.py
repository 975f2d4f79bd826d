"""Rules for how the app's process runs: its environment, command, arguments and stop signal.

Pulumi hands an object or array key to the program as JSON text (`pulumi config
set --path 'appEnv.LOG_LEVEL' debug` writes a map into the stack file). The text
is bounded before it is parsed, and every entry is checked, so nothing reaches a
Swarm spec unchecked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from swarm_zero_downtime.settings.parsers import InvalidValue, shown


@dataclass(frozen=True)
class AppProcess:
    """How the app's tasks run its process; the defaults keep the image's own."""

    env: tuple[tuple[str, str], ...] = ()
    command: tuple[str, ...] = ()
    """Replaces the image's ENTRYPOINT."""
    args: tuple[str, ...] = ()
    """Replace the image's CMD."""
    stop_signal: str = ""
    """Empty: the image's STOPSIGNAL."""


# Bounds the JSON text, and so the parse; far above any real environment.
JSON_MAX = 64 * 1024
ENTRIES_MAX = 200
# POSIX names (letters, digits, _), as shells and most runtimes read them.
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}", re.ASCII)


def json_value(raw: str, kind: type[dict[str, Any]] | type[list[Any]], allowed: str, max_chars: int = JSON_MAX) -> Any:
    """An object or array key's JSON text, bounded in size and entries, of the ``kind`` expected."""
    if len(raw) > max_chars:
        raise InvalidValue(f"must be {allowed}; this is {len(raw)} characters")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidValue(f"must be {allowed}") from None
    if not isinstance(value, kind):
        raise InvalidValue(f"must be {allowed}")
    if len(value) > ENTRIES_MAX:
        raise InvalidValue(f"must be {allowed}; this has {len(value)} entries")
    return value


def _text(value: object) -> str | None:
    """A scalar as the app will see it: YAML/JSON numbers and booleans as written; None for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str) and "\0" not in value:
        return value
    return None


@dataclass(frozen=True)
class EnvironmentMap:
    """Variable name -> value, in the order the stack file gives them."""

    allowed: str = (
        f"a map of environment variable names (letters, digits and _, not starting with a digit) to values"
        f" (text, a number or true/false; no NUL), at most {ENTRIES_MAX} entries and {JSON_MAX // 1024} KiB"
    )

    def parse(self, raw: str) -> tuple[tuple[str, str], ...]:
        entries = []
        for name, value in json_value(raw, dict, self.allowed).items():
            if not ENV_NAME.fullmatch(name):
                raise InvalidValue(f"entry {shown(name)}: must be {self.allowed}")
            text = _text(value)
            if text is None:
                raise InvalidValue(f"entry {name}: the value must be text, a number or true/false (no NUL)")
            entries.append((name, text))
        return tuple(entries)


@dataclass(frozen=True)
class WordList:
    """A command line as separate words, as Docker's exec form takes it."""

    allowed: str = (
        f'a list of words such as ["puma", "-p", 3000] (text, numbers or true/false; no NUL; at most {ENTRIES_MAX}),'
        " or [] for the image's own"
    )

    def parse(self, raw: str) -> tuple[str, ...]:
        words = []
        for index, word in enumerate(json_value(raw, list, self.allowed)):
            text = _text(word)
            if text is None:
                raise InvalidValue(f"word {index}: must be {self.allowed}")
            words.append(text)
        return tuple(words)


# The signals an app can catch to shut down gracefully (SIGKILL and SIGSTOP cannot
# be caught: the task would die with requests in flight).
STOP_SIGNALS = ("SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGWINCH")


@dataclass(frozen=True)
class StopSignal:
    allowed: str = f"empty (the image's STOPSIGNAL, else SIGTERM) or one of {', '.join(STOP_SIGNALS)}"

    def parse(self, raw: str) -> str:
        if raw not in ("", *STOP_SIGNALS):
            raise InvalidValue(f"must be {self.allowed}")
        return raw
