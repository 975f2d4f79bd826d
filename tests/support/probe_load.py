"""The probe's load for the length of a ``with`` block: the e2e and cluster suites' way to run it."""

from __future__ import annotations

import time
from typing import Self

from tools.probe import Probe, ProbeOptions, ProbeResult
from tools.probe.classify import CONNECTION_KINDS

# nginx resolves an upstream's `resolve` servers from a worker timer once it
# runs (ngx_http_upstream_zone_init_worker), so a new edge that already listens
# has no L7 task for the requests of its first moments: it answers them 502
# (`no live upstreams`): 1 and 2 requests in two of four cluster runs.
NEW_EDGE_FIRST_MOMENTS_S = 1.0


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


def http_errors_but_a_new_edges_first(result: ProbeResult, restarted_s: float) -> list[tuple[float, str]]:
    """Every HTTP error of the run but those of the first moments of the edge that answered first from
    ``restarted_s`` on (the first HTTP answer then, whatever its status). Connection failures are left
    out: requests in flight on the dead edge and the node's refusals are the gap, measured elsewhere."""
    answered = [s.t for s in result.samples if s.t >= restarted_s and s.failure not in CONNECTION_KINDS]
    first = min(answered, default=None)
    return [
        (t, kind)
        for t, kind in result.failures
        if kind not in CONNECTION_KINDS and not (first is not None and first <= t < first + NEW_EDGE_FIRST_MOMENTS_S)
    ]
