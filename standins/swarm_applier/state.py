"""The applier's stack state: a JSON file per stack, as Pulumi's checkpoint keeps it per URN.

Location: ``<repo>/.cache/applier-state/<stack>.json`` (``.cache/`` is
git-ignored). Per URN: type, physical id, the inputs last applied (ids of
other resources resolved), the outputs the provider returned, dependencies
and parent, and the provider's init errors after a partial failure. Written
after every step, like the engine's snapshot manager (pkg/backend/
snapshot.go), so an interrupted apply leaves what it did recorded.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from standins.stack_config import REPO_ROOT

STATE_DIR = REPO_ROOT / ".cache" / "applier-state"
FORMAT_VERSION = 1


@dataclass
class ResourceState:
    urn: str
    type: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    parent: str = ""
    init_errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The logical name (the URN's last part)."""
        return self.urn.rsplit("::", 1)[-1]


class StackState:
    """The resources of one stack, in the order they were created (kept on update)."""

    def __init__(self, path: Path, resources: dict[str, ResourceState] | None = None):
        self.path = path
        self.resources: dict[str, ResourceState] = resources or {}

    @classmethod
    def load(cls, stack: str, state_dir: Path = STATE_DIR) -> StackState:
        path = state_dir / f"{stack}.json"
        if not path.exists():
            return cls(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path}: state format {data.get('version')!r}, expected {FORMAT_VERSION}")
        return cls(path, {r["urn"]: ResourceState(**r) for r in data["resources"]})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"version": FORMAT_VERSION, "resources": [asdict(r) for r in self.resources.values()]}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
            out.write("\n")
        os.replace(tmp, self.path)

    def put(self, resource: ResourceState) -> None:
        self.resources[resource.urn] = resource
        self.save()

    def drop(self, urn: str) -> None:
        self.resources.pop(urn, None)
        self.save()

    def get(self, urn: str) -> ResourceState | None:
        return self.resources.get(urn)

    def find(self, type_: str, logical_name: str) -> ResourceState | None:
        return next((r for r in self.resources.values() if r.type == type_ and r.name == logical_name), None)
