"""What an apply did, resource by resource, as the tests and the log read it; and how it fails."""

from __future__ import annotations

from dataclasses import dataclass, field


class ApplyError(Exception):
    """The apply failed; ``report`` holds what was done up to the failure."""

    def __init__(self, message: str, report: ApplyReport | None = None):
        super().__init__(message)
        self.report = report


@dataclass
class Change:
    urn: str
    type: str
    name: str  # logical name
    action: str  # create | update | delete | unchanged; in ApplyReport.refreshed: gone | drifted
    paths: tuple[str, ...] = ()  # changed input paths, for update
    seconds: float = 0.0  # time spent applying it, convergence included
    error: str | None = None  # why it failed, if it did

    def __str__(self) -> str:
        paths = f" [{', '.join(self.paths)}]" if self.paths else ""
        took = f" ({self.seconds:.1f}s)" if self.seconds else ""
        failed = f" FAILED: {self.error}" if self.error else ""
        return f"{self.action:9} {self.type.split(':')[-1]} {self.name}{paths}{took}{failed}"


@dataclass
class ApplyReport:
    changes: list[Change] = field(default_factory=list)
    seconds: float = 0.0
    # What a refresh found before the apply (pulumi up --refresh): resources gone from Docker or drifted.
    refreshed: list[Change] = field(default_factory=list)

    def get(self, name: str) -> Change:
        return next(c for c in self.changes if c.name == name)

    def changed(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Logical name -> (action, paths) of everything that is not unchanged."""
        return {c.name: (c.action, c.paths) for c in self.changes if c.action != "unchanged"}

    def __str__(self) -> str:
        refreshed = [f"  refresh: {c}" for c in self.refreshed]
        return "\n".join([f"apply: {self.seconds:.1f}s", *refreshed, *(f"  {c}" for c in self.changes)])
