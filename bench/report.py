"""The results as Markdown: machine, load, per-setup medians and ranges, per-run figures."""

from __future__ import annotations

import os
import platform
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import median

import docker

from bench.measure import REAL_AGAIN_SHARE, LoadPlan, RunFigures
from bench.setups import NGINX_IMAGE, Setup


@dataclass(frozen=True)
class Machine:
    cores: int
    memory_gib: float
    kernel: str
    docker: str
    nginx: str

    def __str__(self) -> str:
        return (
            f"{self.cores} cores, {self.memory_gib:.1f} GiB memory, Linux {self.kernel},"
            f" Docker Engine {self.docker}, nginx {self.nginx} (in {NGINX_IMAGE})"
        )


def describe_machine(client: docker.DockerClient) -> Machine:
    with open("/proc/meminfo") as meminfo:
        kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    # `nginx -v` writes to stderr.
    version = client.containers.run(NGINX_IMAGE, ["nginx", "-v"], remove=True, stdout=False, stderr=True)
    return Machine(
        cores=os.cpu_count() or 0,
        memory_gib=kib / 2**20,
        kernel=platform.release(),
        docker=client.version()["Version"],
        nginx=version.decode().strip().removeprefix("nginx version: nginx/"),
    )


@dataclass(frozen=True)
class Report:
    setups: Sequence[Setup]
    figures: Sequence[RunFigures]
    plan: LoadPlan
    slow_workers: int
    port: int
    machine: Machine
    date: str
    command: str
    elapsed_s: float

    def markdown(self) -> str:
        return "\n".join(
            [
                "# Zero-downtime benchmark: v1 -> v2 rollout under load",
                "",
                f"- Machine: {self.machine}",
                f"- Date: {self.date}",
                f"- Command: `{self.command}`",
                f"- Total bench time: {self.elapsed_s / 60:.1f} min"
                f" ({len(self.figures)} runs, interleaved by setup, deploy and teardown included)",
                "",
                "## Load",
                "",
                self._load(),
                "",
                "## Setups",
                "",
                *SETUP_NOTES,
                "",
                "## Results",
                "",
                "Median over the runs, (min–max) when they differ.",
                "",
                *self._summary_table(),
                "",
                self._reading(),
                "",
                "## Deviations forced by this machine",
                "",
                *deviations(self.port, self.machine.nginx),
                "",
                "## Every run",
                "",
                *self._runs_table(),
                "",
            ]
        )

    def _load(self) -> str:
        p = self.plan
        return (
            f"The probe (`tools/probe`) through nginx on 127.0.0.1:{self.port}: {p.rate:g} requests/s in total,"
            f" evenly paced, from {p.concurrency} workers with a keep-alive session each; {self.slow_workers}"
            f" of them send `GET {p.slow_path}` (answered after 1 s), the others `GET /`; timeout {p.timeout_s:g} s."
            f" Each run: deploy v1, wait until nginx has answered from both real tasks, {p.steady_s:g} s of load"
            f" (steady state), the rollout under the same load until Swarm reports it complete (the rollout"
            f" window: requests sent in it), then {p.after_s:g} s more (after). Real serves again = at least"
            f" {REAL_AGAIN_SHARE:.0%} of the requests sent in the last {p.tail_s:g} s answered by real, with no"
            " nginx reload in any setup. Latencies are of successful requests; the slow path alone puts"
            " about 1 s into every p99."
        )

    def _of(self, setup: Setup) -> list[RunFigures]:
        return [f for f in self.figures if f.setup == setup.key]

    def _summary_table(self) -> list[str]:
        rows = [
            "| setup | rollout s | deploy command s | failed in rollout | failure kinds (all runs) | failed after |"
            " requests/s sent: steady / rollout / after (medians) |"
            " p99 ms steady | p99 ms rollout | max ms steady | max ms rollout | backup share, rollout |"
            f" real share, last {self.plan.tail_s:g} s | backup / failed share, last {self.plan.tail_s:g} s (medians) |"
            " real serves again |",
            "|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        ]
        for setup in self.setups:
            runs = self._of(setup)
            if not runs:
                continue
            rows.append(
                "| "
                + " | ".join(
                    [
                        f"({setup.key}) {setup.title}",
                        spread([r.rollout_s for r in runs], _seconds),
                        spread([r.command_s for r in runs], _seconds),
                        spread([r.failed_rollout for r in runs], _count),
                        _kinds(runs),
                        spread([r.failed_after for r in runs], _count),
                        " / ".join(
                            _rate(median(getattr(r, f"sent_per_s_{w}") for r in runs))
                            for w in ("steady", "rollout", "after")
                        ),
                        spread([r.p99_steady_ms for r in runs], _ms),
                        spread([r.p99_rollout_ms for r in runs], _ms),
                        spread([r.max_steady_ms for r in runs], _ms),
                        spread([r.max_rollout_ms for r in runs], _ms),
                        spread([r.backup_share_rollout for r in runs], _percent),
                        spread([r.real_share_tail for r in runs], _percent),
                        f"{_percent(median(r.backup_share_tail for r in runs))}"
                        f" / {_percent(median(r.failed_share_tail for r in runs))}",
                        f"{'yes' if all(r.real_again for r in runs) else 'no'}"
                        f" ({sum(r.real_again for r in runs)}/{len(runs)} runs)",
                    ]
                )
                + " |"
            )
        return rows

    def _reading(self) -> str:
        sentences = []
        for setup in self.setups:
            runs = self._of(setup)
            if not runs:
                continue
            kinds = _kinds(runs)
            sentences.append(
                f"In ({setup.key}) {spread([r.failed_rollout for r in runs], _count)} requests failed during"
                f" the rollout ({'none in any run' if kinds == 'none' else kinds + ' over all runs'})"
                f" and {spread([r.failed_after for r in runs], _count)} in the {self.plan.after_s:g} s after it;"
                f" the probe sent {spread([r.sent_per_s_steady for r in runs], _rate)} requests/s in the steady"
                f" state, {spread([r.sent_per_s_rollout for r in runs], _rate)} during the rollout and"
                f" {spread([r.sent_per_s_after for r in runs], _rate)} after it;"
                f" p99 went from {spread([r.p99_steady_ms for r in runs], _ms)} ms in the steady state to"
                f" {spread([r.p99_rollout_ms for r in runs], _ms)} ms during the rollout, and the slowest"
                f" answer from {spread([r.max_steady_ms for r in runs], _ms)} ms to"
                f" {spread([r.max_rollout_ms for r in runs], _ms)} ms; backup answered"
                f" {spread([r.backup_share_rollout for r in runs], _percent)} of the rollout's requests;"
                f" the rollout took {spread([r.rollout_s for r in runs], _seconds)} s; in the last"
                f" {self.plan.tail_s:g} s real answered {spread([r.real_share_tail for r in runs], _percent)}"
                f" of the requests, backup {spread([r.backup_share_tail for r in runs], _percent)}, and"
                f" {spread([r.failed_share_tail for r in runs], _percent)} failed, so real served again without a reload in"
                f" {sum(r.real_again for r in runs)} of {len(runs)} runs."
            )
        return " ".join([*sentences, *self._ratios()])

    def _ratios(self) -> list[str]:
        """Each setup's rollout and deploy command against (b), the tutorial with nginx's resolve fix."""
        base = [f for f in self.figures if f.setup == "b"]
        if not base:
            return []
        rollout_b, command_b = median(r.rollout_s for r in base), median(r.command_s for r in base)
        return [
            f"Against (b): ({setup.key})'s rollout took {median(r.rollout_s for r in runs) / rollout_b:.2f}x"
            f" as long and its deploy command {median(r.command_s for r in runs) / command_b:.2f}x."
            for setup in self.setups
            if setup.key != "b" and (runs := self._of(setup))
        ]

    def _runs_table(self) -> list[str]:
        rows = [
            "| setup | run | rollout s | requests/s sent: steady / rollout / after | failed steady / rollout / after |"
            " failure kinds in rollout | p99 ms steady / rollout | max ms steady / rollout |"
            f" backup share, rollout | last {self.plan.tail_s:g} s: real / backup / failed |",
            "|---|--:|--:|--:|--:|---|--:|--:|--:|--:|",
        ]
        for r in self.figures:
            kinds = ", ".join(f"{k} ×{n}" for k, n in r.failures_rollout.items()) or "none"
            rows.append(
                f"| ({r.setup}) | {r.run} | {_seconds(r.rollout_s)}"
                f" | {_rate(r.sent_per_s_steady)} / {_rate(r.sent_per_s_rollout)} / {_rate(r.sent_per_s_after)}"
                f" | {r.failed_steady} / {r.failed_rollout} / {r.failed_after} | {kinds}"
                f" | {_ms(r.p99_steady_ms)} / {_ms(r.p99_rollout_ms)} | {_ms(r.max_steady_ms)} / {_ms(r.max_rollout_ms)}"
                f" | {_percent(r.backup_share_rollout)}"
                f" | {_percent(r.real_share_tail)} / {_percent(r.backup_share_tail)} / {_percent(r.failed_share_tail)} |"
            )
        return rows


SETUP_NOTES = [
    "- (a) tutorial as written: its `default.conf` bind-mounted into nginx (upstream `least_conn;"
    " server webapp-real:8080 max_fails=1 fail_timeout=2s; server webapp-backup:8080 backup;`, names"
    " resolved once at nginx start, nginx's default retries and timeouts, its `proxy_set_header` lines);"
    " `webapp-real` 2 replicas with `update_config` parallelism 1, delay 10s and Swarm's defaults otherwise"
    " (stop-first, failure action pause, monitor 5 s), `webapp-backup` 2 replicas, no health check; created"
    " with the Docker SDK as `docker stack deploy` would (services `szdbench_<name>` with the network"
    " alias `<name>`). Rollout: `docker service update --image szd-testapp:v2` of the real service (the"
    " SDK call the CLI makes), until its UpdateStatus is `completed`.",
    "- (b) the same plus only nginx's `resolve` fix: `resolver 127.0.0.11 valid=1s;`, `zone app-server"
    " 64k;`, `resolve` on both servers.",
    "- (c) this project: the `dev` stack (`Pulumi.dev.yaml` + `Pulumi.yaml` defaults) with only appImage"
    " szd-testapp, imageTag v1, nginxImage szd-nginx:test, publishedPort and appName szdbench overridden,"
    " applied by the test applier (`engine_standin/swarm_applier`, which models pulumi-docker's and the engine's"
    " real behaviour) in place of `pulumi up`. Rollout: the same program with imageTag v2 (the real pool,"
    " its rollout gate until Swarm has finished it, then the backup pool), until Swarm reports both pools"
    " completed; the deploy command is the applier's run (`pulumi up`), which returns while Swarm still"
    " watches the backup pool.",
]


def deviations(port: int, nginx_version: str) -> list[str]:
    return [
        "- App services use `endpoint_mode: dnsrr` in all setups: Swarm's default VIP (which the tutorial"
        " used) needs IPVS, absent from this kernel. With dnsrr, nginx's one-time resolution of"
        " `webapp-real` in (a) gives it the task IPs at its start, where the tutorial got the service's VIP.",
        f"- nginx is published with `publish_mode: host` on port {port} (the tutorial: ingress on 80, which"
        " also needs IPVS).",
        "- Local images instead of registry ones: `szd-testapp:v1`/`v2` (the tutorial's app rebuilt: same"
        " routes, `, version : vN` appended to answers, graceful SIGTERM) for `windowforsun/test-web`, and"
        f" `{NGINX_IMAGE}` (nginx {nginx_version} from Debian sid) for `nginx:stable-alpine`.",
        "- Not forced, for the same start in every run: 2 real replicas (the tutorial's later runs), and in"
        " (a)/(b) nginx is created once the app tasks run (`stack deploy` starts all three at once; without"
        " `resolve`, nginx exits until both names resolve and is restarted by Swarm).",
    ]


def spread(values: Sequence[float | None], fmt: Callable[[float], str]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "–"
    low, high = min(known), max(known)
    middle = fmt(median(known))
    return middle if fmt(low) == fmt(high) else f"{middle} ({fmt(low)}–{fmt(high)})"


def _kinds(runs: Sequence[RunFigures]) -> str:
    total = sum((Counter(r.failures_rollout) for r in runs), Counter[str]())
    return ", ".join(f"{kind} ×{n}" for kind, n in total.most_common()) or "none"


def _seconds(value: float) -> str:
    return f"{value:.1f}"


def _count(value: float) -> str:
    return f"{value:g}"


def _rate(value: float) -> str:
    return f"{value:.1f}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _percent(value: float) -> str:
    return f"{value:.0%}"
