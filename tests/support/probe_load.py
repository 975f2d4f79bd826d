"""The probe's load for the length of a ``with`` block: the e2e and cluster suites' way to run it."""

from __future__ import annotations

import time
from typing import Self

from tools.probe import Probe, ProbeOptions, ProbeResult
from tools.probe.classify import CONNECTION_KINDS


class Load:
    def __init__(self, options: ProbeOptions) -> None:
        self.probe = Probe(options)
        self._result: ProbeResult | None = None
        self.started_at = 0.0

    @property
    def result(self) -> ProbeResult:
        assert self._result is not None, "the load is still running"
        return self._result

    def __enter__(self) -> Self:
        self.probe.start()
        self.started_at = time.time()
        return self

    def at(self, epoch: float) -> float:
        """Seconds into the probe run of a time.time() instant."""
        return epoch - self._result.started_at if self._result else epoch - self.started_at

    def __exit__(self, *exc_info: object) -> None:
        self._result = self.probe.stop()


def http_errors(result: ProbeResult) -> list[tuple[float, str]]:
    """Every HTTP error of the run (an answer, 4xx or 5xx), at any time. Requests that got no answer are
    left out: those in flight on a killed edge and the node's refusals until its new edge listens are the
    gap, measured elsewhere."""
    return [(t, kind) for t, kind in result.failures if kind not in CONNECTION_KINDS]
