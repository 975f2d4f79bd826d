"""One run of one setup: deploy v1, steady load, roll out v2 under the same load, watch after."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import requests

from bench.setups import REPLICAS, Setup
from swarm_zero_downtime.swarm.naming import REAL, task_name_pattern
from tools.probe import Probe, ProbeOptions, ProbeResult

REAL_HOST = re.compile(rf"^({task_name_pattern(REAL)}),")
# "Real serves again" when at least this share of the requests sent in the tail
# window were answered by real: a stray failure must not turn a yes into a no.
REAL_AGAIN_SHARE = 0.99


@dataclass(frozen=True)
class LoadPlan:
    rate: float
    concurrency: int = 8
    slow_path: str = "/1000"
    slow_share: float = 0.25
    timeout_s: float = 10.0
    steady_s: float = 10.0  # load before the rollout starts
    after_s: float = 10.0  # load after Swarm reports the rollout complete
    tail_s: float = 5.0  # end of the run where "real serves again" is judged

    def probe_options(self, url: str) -> ProbeOptions:
        return ProbeOptions(
            url=url,
            concurrency=self.concurrency,
            rate=self.rate,
            slow_path=self.slow_path,
            slow_share=self.slow_share,
            timeout=self.timeout_s,
        )


@dataclass(frozen=True)
class RunFigures:
    setup: str
    run: int
    rollout_s: float  # until Swarm has finished every pool
    command_s: float  # until the deploy command (`pulumi up`, `docker service update`) returned
    sent_per_s_steady: float  # the paced rate, unless workers hang on requests
    sent_per_s_rollout: float
    sent_per_s_after: float
    failed_steady: int
    failed_rollout: int
    failed_after: int
    failures_rollout: dict[str, int]
    p99_steady_ms: float | None  # successful requests only, the slow path included
    p99_rollout_ms: float | None
    max_steady_ms: float | None
    max_rollout_ms: float | None
    backup_share_rollout: float  # of the requests sent during the rollout
    real_share_tail: float  # of the requests sent in the last tail_s seconds
    backup_share_tail: float
    failed_share_tail: float

    @property
    def real_again(self) -> bool:
        return self.real_share_tail >= REAL_AGAIN_SHARE


def run_once(setup: Setup, plan: LoadPlan, url: str, run: int) -> RunFigures:
    """Measures one run; the caller tears the setup down, also when this raises."""
    setup.deploy()
    wait_for_real(url)
    probe = Probe(plan.probe_options(url))
    probe.start()
    try:
        time.sleep(plan.steady_s)
        rollout_start = time.time()
        command_s = setup.roll_out()
        rollout_end = time.time()
        time.sleep(plan.after_s)
    finally:
        result = probe.stop()
    start_s, end_s = rollout_start - result.started_at, rollout_end - result.started_at
    steady, rollout = result.window(0, start_s), result.window(start_s, end_s)
    after, tail = result.window(end_s, result.duration_s), result.last(plan.tail_s)
    return RunFigures(
        setup=setup.key,
        run=run,
        rollout_s=rollout_end - rollout_start,
        command_s=command_s,
        sent_per_s_steady=_rate(steady),
        sent_per_s_rollout=_rate(rollout),
        sent_per_s_after=_rate(after),
        failed_steady=steady.failed,
        failed_rollout=rollout.failed,
        failed_after=after.failed,
        failures_rollout=rollout.failures_by_kind,
        p99_steady_ms=steady.latency_ms(99),
        p99_rollout_ms=rollout.latency_ms(99),
        max_steady_ms=steady.latency_ms(100),
        max_rollout_ms=rollout.latency_ms(100),
        backup_share_rollout=_share(rollout, "backup"),
        real_share_tail=_share(tail, "real"),
        backup_share_tail=_share(tail, "backup"),
        failed_share_tail=tail.failed / tail.sent if tail.sent else 0.0,
    )


def wait_for_real(url: str, timeout_s: float = 120.0) -> None:
    """Until nginx has answered from every real task: the steady state the load starts in."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout_s
    while len(seen) < REPLICAS:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}: nginx answered from {sorted(seen) or 'no'} real task(s) in {timeout_s:g}s")
        try:
            match = REAL_HOST.match(requests.get(url, timeout=2).text)
        except requests.RequestException:
            match = None  # nginx not listening yet
        if match:
            seen.add(match[1])
        else:
            time.sleep(0.2)


def _share(result: ProbeResult, pool: str) -> float:
    return result.by_pool.get(pool, 0) / result.sent if result.sent else 0.0


def _rate(result: ProbeResult) -> float:
    return result.sent / result.duration_s
