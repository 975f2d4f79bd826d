"""The resources section: CPU and memory limits and reservations of the pools' and both nginx tiers' tasks.

Each key is an object shaped as Compose's ``deploy.resources``, every part
optional: ``{"limits": {"cpus": "0.5", "memory": "256M"}, "reservations":
{...}}``, set one part at a time with ``pulumi config set --path
'appResources.limits.memory' 256M``. An empty object sets nothing: Swarm's
own "no limit, no reservation".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from swarm_zero_downtime.settings.parsers import InvalidValue, Rule, shown
from swarm_zero_downtime.settings.process import json_value
from swarm_zero_downtime.settings.reader import ConfigReader, complete, section_reader
from swarm_zero_downtime.swarm.values import KIB, NANO_CPUS, ResourceAmounts, TaskResources, cpus_text, memory_text

SECTIONS = ("limits", "reservations")
AMOUNTS = ("cpus", "memory")
# Docker refuses a container a CPU limit under 0.01 ("Range of CPUs is from
# 0.01", moby daemon/daemon_unix.go verifyPlatformContainerResources): it
# gets a CFS quota of NanoCPUs x 100 ms, and the kernel's least quota is 1 ms.
# A reservation only counts against a node's CPUs when Swarm places a task.
LEAST_NANO_CPUS = {"limits": NANO_CPUS // 100, "reservations": NANO_CPUS // 1000}
MOST_NANO_CPUS = 1024 * NANO_CPUS
# moby daemon/daemon_unix.go linuxMinMemory (6291456): "Minimum memory limit
# allowed is 6MB" when the task's container is created. Reservations are
# Swarm's scheduling alone (the executor sets only the limit on the container).
LEAST_MEMORY = {"limits": 6 * KIB**2, "reservations": 1}
MOST_MEMORY = 1024 * KIB**3
CPUS = re.compile(r"[0-9]{1,4}(?:\.[0-9]{1,3})?", re.ASCII)
# go-units RAMInBytes, as `docker service create --limit-memory` and Compose
# read it: 1024-based, the unit in either case, optionally followed by b or ib.
MEMORY = re.compile(r"([0-9]{1,13}(?:\.[0-9]{1,3})?)(?:([kmg])(?:i?b)?|b)?", re.ASCII | re.IGNORECASE)
_UNIT = {None: 1, "k": KIB, "m": KIB**2, "g": KIB**3}

CPUS_ALLOWED = 'a number of CPUs such as 0.5 or "2" (at most 3 decimals)'
MEMORY_ALLOWED = "a size such as 256M, 1.5g or 134217728 (bytes, or units b, k, m, g with optional b or ib: 1024-based)"


def _cpus(value: object, path: str, section: str) -> int:
    text = json_number_text(value)
    if text is None or not CPUS.fullmatch(text):
        raise InvalidValue(f"{path}: {shown(str(value))} must be {CPUS_ALLOWED}")
    nanos = int(Decimal(text) * NANO_CPUS)
    least = LEAST_NANO_CPUS[section]
    if not least <= nanos <= MOST_NANO_CPUS:
        raise InvalidValue(
            f"{path}: {text} must be from {cpus_text(least)} to {cpus_text(MOST_NANO_CPUS)}"
            + (" (Docker refuses a CPU limit under 0.01)" if section == "limits" else "")
        )
    return nanos


def _memory(value: object, path: str, section: str) -> int:
    # A bare whole number is bytes, as `pulumi config set --path ... 268435456` may store it.
    text = json_number_text(value) if not isinstance(value, float) else None
    match = MEMORY.fullmatch(text) if text is not None else None
    if match is None:
        raise InvalidValue(f"{path}: {shown(str(value))} must be {MEMORY_ALLOWED}")
    # go-units keeps the whole bytes of "1.5k" and the like.
    size = int(Decimal(match[1]) * _UNIT[match[2] and match[2].lower()])
    least = LEAST_MEMORY[section]
    if size < least:
        why = " (Docker's least memory limit)" if section == "limits" else ""
        raise InvalidValue(f"{path}: {text!r} is {memory_text(size)}; must be at least {memory_text(least)}{why}")
    if size > MOST_MEMORY:
        raise InvalidValue(f"{path}: {text!r} must be at most {memory_text(MOST_MEMORY)}")
    return size


def json_number_text(value: object) -> str | None:
    """A JSON number or a string, as text; None for anything else (true is not 1 CPU)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value.strip()
    return None


def _object(value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidValue(f"{path}: must be an object with {', '.join(allowed)} (each optional)")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise InvalidValue(f"{path}: {', '.join(map(shown, unknown))} unknown; allowed: {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class ResourcesRule:
    key: str
    """Named in every problem, with the path inside it: appResources.limits.memory."""

    @property
    def allowed(self) -> str:
        return (
            '{} (none), or {"limits": {"cpus": "0.5", "memory": "256M"}, "reservations": {"cpus": "0.25",'
            ' "memory": "128M"}}, every part optional; cpus: at most 3 decimals, from 0.01 for a limit;'
            " memory: a size (b, k, m, g, 1024-based), from 6M for a limit; a reservation at most its limit"
        )

    def parse(self, raw: str) -> TaskResources:
        parts = _object(json_value(raw, dict, self.allowed), self.key, SECTIONS)
        amounts = {}
        for section in SECTIONS:
            path = f"{self.key}.{section}"
            given = _object(parts.get(section, {}), path, AMOUNTS)
            amounts[section] = ResourceAmounts(
                nano_cpus=_cpus(given["cpus"], f"{path}.cpus", section) if "cpus" in given else None,
                memory_bytes=_memory(given["memory"], f"{path}.memory", section) if "memory" in given else None,
            )
        limits, reservations = amounts["limits"], amounts["reservations"]
        for name, limit, reserved, text in (
            ("cpus", limits.nano_cpus, reservations.nano_cpus, cpus_text),
            ("memory", limits.memory_bytes, reservations.memory_bytes, memory_text),
        ):
            if limit is not None and reserved is not None and reserved > limit:
                raise InvalidValue(
                    f"{self.key}.reservations.{name}: {text(reserved)} is above {self.key}.limits.{name}"
                    f" ({text(limit)}); a reservation must be at most its limit"
                )
        return TaskResources(limits=limits, reservations=reservations)


RULES: dict[str, Rule[object]] = {
    key: ResourcesRule(key) for key in ("appResources", "nginxResources", "edgeResources")
}


@dataclass(frozen=True)
class ResourceSettings:
    app: TaskResources
    """Each task of both pools."""
    nginx: TaskResources
    """Each task of the L7 tier."""
    edge: TaskResources
    """The edge's task on each node."""


def read_resources(r: ConfigReader) -> ResourceSettings | None:
    read = section_reader(r, RULES)
    return complete(
        ResourceSettings, app=read("appResources"), nginx=read("nginxResources"), edge=read("edgeResources")
    )
