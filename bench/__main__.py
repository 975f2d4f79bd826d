"""python -m bench [--runs N] [--setups a,b,c] [--rate R] [--parts rollout,tier-cost] [--out FILE]: see bench/__init__.py."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import docker

from bench.edge_changes import EdgeFigures, measure_project, measure_tutorial
from bench.edge_report import EdgeReport
from bench.measure import LoadPlan, run_once
from bench.report import Machine, Report, describe_machine
from bench.setups import SETUP_KEYS, ProjectSetup, Setup, TutorialSetup, build_setups
from bench.tier_cost import TOOLS, remove_loadgen, run_tier_cost
from engine_standin.swarm_env import PROVISION, cluster_lock, docker_ready, port_in_use, swarm_lock
from tools.probe import OptionError

PORT = 18090  # clear of the e2e stack's 18080
NEW_PORT, HTTPS_PORT = 18091, 18453  # the edge part's: where the edge moves to, and its HTTPS port
URL = f"http://127.0.0.1:{PORT}/"
ROLLOUT, EDGE, TIER_COST = "rollout", "edge", "tier-cost"
Figures = TypeVar("Figures")
PARTS = (ROLLOUT, EDGE, TIER_COST)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    plan = LoadPlan(rate=args.rate)
    try:
        slow_workers = plan.probe_options(URL).slow_workers
    except OptionError as error:
        parser.error(f"argument --{error.option}: {error.reason}")
    if not args.out.resolve().parent.is_dir():
        parser.error(f"argument --out: directory of {str(args.out)!r} does not exist")
    ready, missing = docker_ready()
    if not ready:
        print(f"bench needs {missing}: {PROVISION}", file=sys.stderr)
        return 2
    tools = [tool for tool in TOOLS if shutil.which(tool) is None]
    if TIER_COST in args.parts and tools:
        print(f"bench needs {' and '.join(tools)}: bash scripts/provision.sh load-tools", file=sys.stderr)
        return 2
    # `kill` and CI job timeouts send SIGTERM: tear down as for Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    client = docker.from_env(timeout=120)
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = _command(argv)
    sections: list[str] = []
    with swarm_lock(), cluster_lock():
        remove_loadgen(client)  # before the stacks: it holds on to setup (c)'s network
        for setup in build_setups(list(SETUP_KEYS), client.api, PORT):
            setup.tear_down()  # leftovers of an interrupted run, whichever setups it ran
        setups = build_setups(args.setups, client.api, PORT)
        taken = [port for port in (PORT, NEW_PORT, HTTPS_PORT) if port_in_use(port)]
        if taken:
            print(f"127.0.0.1:{taken[0]} is taken by something else; the bench needs it", file=sys.stderr)
            return 2
        machine = describe_machine(client)
        if ROLLOUT in args.parts:
            started = time.monotonic()
            figures = _interleaved(setups, args.runs, "", lambda setup, run: [run_once(setup, plan, URL, run)])
            sections.append(
                Report(
                    setups=setups,
                    figures=figures,
                    plan=plan,
                    slow_workers=slow_workers,
                    port=PORT,
                    machine=machine,
                    date=date,
                    command=command,
                    elapsed_s=time.monotonic() - started,
                ).markdown()
            )
        if EDGE in args.parts:
            sections.append(_edge_part(setups, plan, args.runs, machine, date, command).markdown())
        if TIER_COST in args.parts:
            sections.append(run_tier_cost(client, PORT, machine, date, command).markdown())
    report = "\n".join(sections)
    args.out.write_text(report)
    print(f"\n{report}\nwritten to {args.out}")
    return 0


def _edge_part(setups: list[Setup], plan: LoadPlan, runs: int, machine: Machine, date: str, command: str) -> EdgeReport:
    """Each setup's nginx through the edge's changes."""
    started = time.monotonic()

    def measure(setup: Setup, run: int) -> list[EdgeFigures]:
        if isinstance(setup, ProjectSetup):
            return measure_project(setup, plan, PORT, HTTPS_PORT, NEW_PORT, run)
        assert isinstance(setup, TutorialSetup)
        return measure_tutorial(setup, plan, PORT, NEW_PORT, run)

    figures = _interleaved(setups, runs, "the edge's changes, ", measure)
    return EdgeReport(
        figures=figures,
        titles={s.key: s.title for s in setups},
        plan=plan,
        port=PORT,
        new_port=NEW_PORT,
        machine=machine,
        date=date,
        command=command,
        elapsed_s=time.monotonic() - started,
    )


def _interleaved(
    setups: list[Setup], runs: int, what: str, measure: Callable[[Setup, int], list[Figures]]
) -> list[Figures]:
    """``measure`` of each setup, run after run: interleaved, so a slow drift of the machine touches every
    setup alike. Each setup is torn down after each run, also when it fails."""
    figures: list[Figures] = []
    for run in range(1, runs + 1):
        for setup in setups:
            print(f"\n=== ({setup.key}) {setup.title}: {what}run {run}/{runs}", flush=True)
            try:
                measured = measure(setup, run)
            finally:
                setup.tear_down()
            print(*measured, sep="\n", flush=True)
            figures += measured
    return figures


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _command(argv: Sequence[str] | None) -> str:
    args = list(sys.argv[1:] if argv is None else argv)
    command = shlex.join(["venv/bin/python", "-m", "bench", *args])
    return f"make bench  # {command}" if os.environ.get("MAKELEVEL") and not args else command


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Failed requests, latency and pools during a v1 -> v2 rollout under the same load:"
        " (a) the tutorial's setup, (b) the tutorial plus nginx's resolve fix, (c) this project's dev stack;"
        " then what the dev stack's edge and L7 tier cost: latency added and most requests/s before errors, through"
        " the tier against straight to one app task. Needs the provisioned swarm and images, and hey and wrk"
        " (scripts/provision.sh load-tools); waits for any e2e or cluster run to finish first.",
    )
    parser.add_argument("--runs", type=_positive_int, default=3, metavar="N", help="runs of each setup (default 3)")
    parser.add_argument(
        "--setups", type=_setups, default=list(SETUP_KEYS), metavar="a,b,c", help="setups to run (default a,b,c)"
    )
    parser.add_argument(
        "--rate", type=float, default=40.0, metavar="R", help="rollout: the probe's requests/s in total (default 40)"
    )
    parser.add_argument(
        "--parts",
        type=_parts,
        default=list(PARTS),
        metavar=",".join(PARTS),
        help=f"what to measure (default {','.join(PARTS)}): {ROLLOUT}, the setups through a v1 -> v2 rollout;"
        f" {EDGE}, the setups' nginx through each change of the edge (image, TLS on and off, published port);"
        f" {TIER_COST}, what the edge and the L7 tier cost (latency added, most requests/s before errors) with hey and wrk."
        " The report has a section for each part that ran",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("bench/results.md"), metavar="FILE", help="default bench/results.md"
    )
    return parser


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number, 1 or more, got {text!r}")
    return int(text)


def _parts(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or len(set(parts)) != len(parts) or not set(parts) <= set(PARTS):
        raise argparse.ArgumentTypeError(f"a comma-separated subset of {','.join(PARTS)}, got {text!r}")
    return [p for p in PARTS if p in parts]


def _setups(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SETUP_KEYS]
    if unknown or not keys or len(set(keys)) != len(keys):
        raise argparse.ArgumentTypeError(f"a comma-separated subset of {','.join(SETUP_KEYS)}, got {text!r}")
    return keys


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted; what it had deployed is torn down", file=sys.stderr)
        sys.exit(130)
