"""Reads config keys, remembering every problem instead of stopping at the first."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

import pulumi

from swarm_zero_downtime.settings.parsers import InvalidValue, Rule, shown

T = TypeVar("T")

SECRET_NOT_SHOWN = "(secret value not shown)"


class SettingsError(pulumi.RunError):
    """Invalid stack config; RunError makes Pulumi print it without a traceback."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} invalid stack config value(s):\n" + "\n".join(f"  - {p}" for p in problems))


class ConfigSource(Protocol):
    """What is read of a ``pulumi.Config``."""

    def get(self, key: str) -> str | None: ...

    def full_key(self, key: str) -> str: ...


class ConfigReader:
    def __init__(self, config: ConfigSource):
        self._config = config
        self.problems: list[str] = []
        # Every key that parsed, by short name: rules that span keys look here,
        # so one bad key does not hide a problem of another.
        self.parsed: dict[str, Any] = {}

    def read(self, key: str, rule: Rule[T]) -> T | None:
        """The parsed value of ``key``, or None (and a problem noted) when it does not parse."""
        full_key = self._config.full_key(key)
        raw = self._config.get(key)
        if raw is None:
            self.problems.append(
                f"{full_key}: missing (declare it with a default in Pulumi.yaml or run `pulumi config set {key} VALUE`)"
            )
            return None
        try:
            value = rule.parse(raw)
        except InvalidValue as error:
            # Any key may be set with --secret; its value then stays out of the problem too.
            value_shown = SECRET_NOT_SHOWN if self.is_secret(key) else shown(raw)
            self.problems.append(f"{full_key}: {value_shown} {error}")
            return None
        self.parsed[key] = value
        return value

    def read_secret(self, key: str, rule: Rule[T], set_with: str | None = None) -> T | None:
        """``read`` for a value that must be a Pulumi secret: problems never show it.

        Pulumi hands the program secrets decrypted; whether the stack holds the
        value encrypted is asked separately, so a key pasted in plain text is
        refused before it is ever used. An empty value (no PEM, no entry) is
        no secret. ``set_with``: the command the refusal suggests.
        """
        full_key = self._config.full_key(key)
        raw = self._config.get(key)
        if raw is None:
            self.problems.append(f"{full_key}: missing (declare it with a default in Pulumi.yaml)")
            return None
        try:
            value = rule.parse(raw)
        except InvalidValue as error:
            self.problems.append(f"{full_key}: {SECRET_NOT_SHOWN} {error}")
            return None
        if value and not self.is_secret(key):
            self.problems.append(
                f"{full_key}: is stored in plain text in the stack file; set it with"
                f" `{set_with or f'pulumi config set --secret {key} < file.pem'}`"
            )
            return None
        self.parsed[key] = value
        return value

    def all_parsed(self, *keys: str) -> bool:
        return all(key in self.parsed for key in keys)

    def is_secret(self, key: str) -> bool:
        """Whether the stack holds ``key`` encrypted (`pulumi config set --secret`, or --path inside it)."""
        return pulumi.runtime.is_config_secret(self._config.full_key(key))

    def require(self, ok: bool, key: str, message: str) -> None:
        if not ok:
            self.problems.append(f"{self._config.full_key(key)}: {message}")


def section_reader(r: ConfigReader, rules: Mapping[str, Rule[object]]) -> Callable[[str], object]:
    """``read(key)`` for the keys of one section, each with its rule."""
    return lambda key: r.read(key, rules[key])


def complete(make: Callable[..., T], **fields: Any) -> T | None:
    """``make(**fields)``, or None when a field did not parse (its problem is already noted).

    A section is built only whole, so the rules that span sections can rely on
    every value of a section they are given.
    """
    if any(value is None for value in fields.values()):
        return None
    return make(**fields)
