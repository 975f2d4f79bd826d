"""The app's secrets (appSecrets): files in both pools' tasks, each value a Pulumi secret never shown.

Pulumi hands the program ``appSecrets`` decrypted, as JSON text (`pulumi config
set --secret --path 'appSecrets.DATABASE_URL' VALUE` writes a map into the
stack file, encrypted as a whole). Every problem names the entry
(``appSecrets.NAME``), never a value: a value lives only inside an ``AppSecret``,
whose repr leaves it out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from swarm_zero_downtime.settings.parsers import InvalidValue, shown
from swarm_zero_downtime.settings.process import ENTRIES_MAX, json_value
from swarm_zero_downtime.settings.reader import ConfigReader
from swarm_zero_downtime.swarm.naming import AUTONAME_SUFFIX, CONFIG_NAME_MAX, app_secret_name

KEY = "appSecrets"
# swarmkit api/validation/secrets.go ValidateSecretPayload: data of MaxSecretSize
# (500 KiB) or more is refused.
VALUE_MAX_BYTES = 500 * 1024 - 1
# Bounds the JSON text before it is parsed: a few values of the largest size.
JSON_MAX = 4 * 1024 * 1024
# A file name under /run/secrets and an environment variable name (NAME_FILE) at once.
SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}", re.ASCII)
# Where Swarm mounts a task's secrets; the app finds each at NAME_FILE.
SECRETS_DIR = "/run/secrets"


@dataclass(frozen=True)
class AppSecret:
    """One entry of appSecrets: a name, and a value no repr, log or problem shows."""

    name: str
    value: str = field(repr=False)

    @property
    def path(self) -> str:
        return secret_path(self.name)

    @property
    def file_variable(self) -> str:
        """The variable that tells the app where the file is: the *_FILE convention of official images."""
        return file_variable(self.name)


def secret_path(name: str) -> str:
    return f"{SECRETS_DIR}/{name}"


def file_variable(name: str) -> str:
    return f"{name}_FILE"


def entry(name: str) -> str:
    return f"{KEY}.{name}"


@dataclass(frozen=True)
class SecretMap:
    """Secret name -> value, in the order the stack file gives them."""

    allowed: str = (
        "a map, set with `pulumi config set --secret --path 'appSecrets.NAME' VALUE`, of names"
        " (letters, digits and _, not starting with a digit, at most 64) to text (not only whitespace;"
        f" no NUL; under {(VALUE_MAX_BYTES + 1) // 1024} KiB), at most {ENTRIES_MAX} entries"
    )

    def parse(self, raw: str) -> tuple[AppSecret, ...]:
        # Nothing of the text is echoed: a value may sit anywhere in it.
        values = json_value(raw, dict, self.allowed, JSON_MAX)
        secrets = []
        for name, value in values.items():
            if not SECRET_NAME.fullmatch(name):
                raise InvalidValue(f"entry {shown(name)}: the name must be {self.allowed}")
            if not isinstance(value, str) or not value.strip() or "\0" in value:
                raise InvalidValue(f"{entry(name)}: the value must be text, not only whitespace, without NUL")
            if len(value.encode()) > VALUE_MAX_BYTES:
                raise InvalidValue(
                    f"{entry(name)}: the value is {len(value.encode())} bytes; Swarm takes a secret"
                    f" of at most {VALUE_MAX_BYTES}"
                )
            secrets.append(AppSecret(name, value))
        return tuple(secrets)


RULES = {KEY: SecretMap()}


def read_secrets(r: ConfigReader) -> tuple[AppSecret, ...] | None:
    return r.read_secret(KEY, RULES[KEY], set_with=f"pulumi config set --secret --path '{KEY}.NAME' VALUE")


def check_secrets(r: ConfigReader) -> None:
    """What spans keys: the Swarm secret's name fits Swarm's bound, and appEnv sets none of the variables."""
    if not r.all_parsed(KEY):
        return
    secrets: tuple[AppSecret, ...] = r.parsed[KEY]
    if r.all_parsed("appName"):
        app_name = r.parsed["appName"]
        for secret in secrets:
            length = len(app_secret_name(app_name, secret.name)) + AUTONAME_SUFFIX
            r.require(
                length <= CONFIG_NAME_MAX,
                KEY,
                f"{entry(secret.name)}: with appName {app_name!r} the name can be at most"
                f" {len(secret.name) - (length - CONFIG_NAME_MAX)} characters (Swarm names a secret"
                f" in at most {CONFIG_NAME_MAX})",
            )
    if r.all_parsed("appEnv"):
        env = {name for name, _ in r.parsed["appEnv"]}
        for secret in secrets:
            for variable in (secret.name, secret.file_variable):
                r.require(
                    variable not in env,
                    KEY,
                    f"{entry(secret.name)} and appEnv.{variable} collide: the secret sets"
                    f" {secret.file_variable}={secret.path}, and its name is the variable an app would"
                    " otherwise read; remove one of them",
                )
