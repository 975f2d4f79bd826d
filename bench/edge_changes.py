"""The edge's own changes under load: what the node's clients meet while its nginx restarts.

Side by side: (a) the tutorial's nginx changed the way its users would
(`docker service update --image`, `--publish-rm`/`--publish-add`), and (c) the
`dev` stack's edge changed through the program (`edgeImage`, TLS turned on and
off, `publishedPort`). With host publishing one task per node holds the port, so
both restart stop-first: the figures are the gap a node's own clients meet, which
docs/rollouts.md names at preview.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from bench.measure import LoadPlan, wait_for_real
from bench.setups import NEXT_NGINX_IMAGE, ProjectSetup, TutorialSetup
from tools.probe import Probe, ProbeResult

STAND_IN_TLS = Path(__file__).resolve().parent.parent / "tools" / "stand_in_tls"
SETTLE_S = 3.0  # load before and after each change: both sides of the gap, 120 requests each at 40/s
ANSWER_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class EdgeChange:
    key: str
    title: str
    tutorial: str | None  # how the tutorial's users make it; None where the tutorial has no such thing


# In the order they are made, each from where the one before left the stack.
CHANGES = (
    EdgeChange("image", "nginx image (`edgeImage`)", "`docker service update --image szd-nginx:next`"),
    EdgeChange("tls-on", "TLS turned on (HTTP load, then answered 301)", None),
    EdgeChange("tls-off", "TLS turned off (HTTP load)", None),
    EdgeChange("port", "published port", "`docker service update --publish-rm`, `--publish-add`"),
)
PORT_CHANGE = "port"


@dataclass(frozen=True)
class EdgeFigures:
    setup: str
    change: str
    run: int
    sent: int
    # None for a port change: every request to the old port fails from then on, by design.
    failed: int | None
    failures: dict[str, int]
    # First to last failure; for a port change, the old port's last answer to the new port's first.
    gap_s: float
    command_s: float


def measure_tutorial(setup: TutorialSetup, plan: LoadPlan, port: int, new_port: int, run: int) -> list[EdgeFigures]:
    """The tutorial's nginx: its image, then its published port; the caller tears the setup down."""
    setup.deploy()
    wait_for_real(_url(port))
    steps: dict[str, Callable[[], object]] = {
        "image": setup.change_nginx_image,
        PORT_CHANGE: lambda: setup.move_nginx(new_port),
    }
    return [_under_load(setup.key, c, run, plan, port, new_port, steps[c.key]) for c in CHANGES if c.key in steps]


def measure_project(
    setup: ProjectSetup, plan: LoadPlan, port: int, https_port: int, new_port: int, run: int
) -> list[EdgeFigures]:
    """The dev stack's edge through each change in CHANGES; the caller tears the setup down."""
    base: dict[str, object] = {"imageTag": "v1", "httpsPort": https_port}
    setup.apply(base)
    wait_for_real(_url(port))
    next_edge = {**base, "edgeImage": NEXT_NGINX_IMAGE}
    tls = {name: (STAND_IN_TLS / f"{name}.pem").read_text() for name in ("tlsCertificate", "tlsKey")}
    steps: dict[str, Callable[[], object]] = {
        "image": lambda: setup.apply(next_edge),
        "tls-on": lambda: setup.apply(next_edge, secrets=tls),
        "tls-off": lambda: setup.apply(next_edge),
        PORT_CHANGE: lambda: setup.apply({**next_edge, "publishedPort": new_port}),
    }
    return [_under_load(setup.key, c, run, plan, port, new_port, steps[c.key]) for c in CHANGES]


def _under_load(
    setup: str, change: EdgeChange, run: int, plan: LoadPlan, port: int, new_port: int, make: Callable[[], object]
) -> EdgeFigures:
    """``make`` under load on ``port``, and on ``new_port`` too for a port change, where the load moves."""
    moves = change.key == PORT_CHANGE
    probes = [Probe(plan.probe_options(_url(p))) for p in ((port, new_port) if moves else (port,))]
    for probe in probes:
        probe.start()
    try:
        time.sleep(SETTLE_S)
        started = time.monotonic()
        make()
        command_s = time.monotonic() - started
        _wait_answering(_url(new_port if moves else port))
        time.sleep(SETTLE_S)
    finally:
        results = [probe.stop() for probe in probes]
    sent = sum(r.sent for r in results)
    if moves:
        return EdgeFigures(setup, change.key, run, sent, None, {}, port_gap_s(*results), command_s)
    (result,) = results
    return EdgeFigures(
        setup, change.key, run, sent, result.failed, result.failures_by_kind, result.failure_span_s, command_s
    )


def port_gap_s(old: ProbeResult, new: ProbeResult) -> float:
    """From the last answered request to the old port to the first answered one to the new port (both as
    sent): how long a client that moved at once would have found neither answering."""
    last_old = max(s.t for s in old.samples if s.failure is None)
    first_new = min(s.t for s in new.samples if s.failure is None)
    return (new.started_at + first_new) - (old.started_at + last_old)


def _wait_answering(url: str) -> None:
    """Until the edge at ``url`` gives any HTTP answer: the change is behind it."""
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    while True:
        try:
            requests.get(url, timeout=2, allow_redirects=False)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url}: no answer {ANSWER_TIMEOUT_S:g}s after the change") from None
            time.sleep(0.1)


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}/"
