"""The edge-changes part of `make bench`'s report: each change of the edge, the tutorial's beside ours."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bench.edge_changes import CHANGES, PORT_CHANGE, SETTLE_S, EdgeChange, EdgeFigures
from bench.measure import LoadPlan
from bench.report import Machine, spread
from bench.setups import ProjectSetup


@dataclass(frozen=True)
class EdgeReport:
    figures: Sequence[EdgeFigures]
    titles: dict[str, str]  # setup key -> title
    plan: LoadPlan
    port: int
    new_port: int
    machine: Machine
    date: str
    command: str
    elapsed_s: float

    def markdown(self) -> str:
        p = self.plan
        return "\n".join(
            [
                "# The edge's own changes under load: the tutorial's nginx beside this project's edge",
                "",
                f"- Machine: {self.machine}",
                f"- Date: {self.date}",
                f"- Command: `{self.command}`",
                f"- Time for this part: {self.elapsed_s / 60:.1f} min (deploy and teardown included)",
                f"- Load: the probe (`tools/probe`) on 127.0.0.1:{self.port} as in the rollout part ({p.rate:g}"
                f" requests/s from {p.concurrency} workers, some on `GET {p.slow_path}`), {SETTLE_S:g} s before each"
                f" change and {SETTLE_S:g} s after the node answers again. A port change is measured with a second"
                f" probe on {self.new_port} from the start: its gap is from the old port's last answered request to"
                " the new port's first; every request to the old port fails from then on, by design.",
                "- (a): the tutorial's nginx service (one task, host publishing, Swarm's update defaults:"
                " stop-first), changed with the SDK calls the `docker service update` shown makes, until Swarm"
                " reports the update completed. The tutorial has no TLS.",
                "- (c): the `dev` stack as in the rollout part, its edge changed through the program in the order"
                " of the table, each from where the one before left it: `edgeImage` szd-nginx:test to"
                " szd-nginx:next, TLS on (the public stand-in pair in `tools/stand_in_tls/`), TLS off,"
                f" `publishedPort` {self.port} to {self.new_port}. One task per node holds a host-published port,"
                " so the edge restarts stop-first.",
                "",
                "Median over the runs, (min–max) when they differ; gap = first to last failed request.",
                "",
                "| change | setup | made with | failed | gap s | command s | failure kinds (all runs) |",
                "|---|---|---|--:|--:|--:|---|",
                *(row for change in CHANGES for row in self._rows(change)),
                "",
                "## Every run",
                "",
                "| change | setup | run | sent | failed | gap s | command s |",
                "|---|---|--:|--:|--:|--:|--:|",
                *(
                    f"| {f.change} | ({f.setup}) | {f.run} | {f.sent:,} | {_failed(f.failed)} | {f.gap_s:.2f}"
                    f" | {f.command_s:.1f} |"
                    for f in self.figures
                ),
                "",
            ]
        )

    def _rows(self, change: EdgeChange) -> list[str]:
        rows = []
        for setup, title in self.titles.items():
            runs = [f for f in self.figures if f.change == change.key and f.setup == setup]
            made_with = change.tutorial if setup != ProjectSetup.key else "`pulumi up` (the test applier)"
            if not runs:
                if setup != ProjectSetup.key and change.tutorial is None:
                    rows.append(f"| {change.title} | ({setup}) {title} | no such change in the tutorial | | | | |")
                continue
            kinds = sum((Counter(r.failures) for r in runs), Counter[str]())
            failed = "–" if change.key == PORT_CHANGE else spread([r.failed for r in runs], "{:,.0f}".format)
            rows.append(
                f"| {change.title} | ({setup}) {title} | {made_with} | {failed}"
                f" | {spread([r.gap_s for r in runs], '{:.2f}'.format)} | {spread([r.command_s for r in runs], '{:.1f}'.format)}"
                f" | {', '.join(f'{k} ×{n}' for k, n in kinds.most_common()) or 'none'} |"
            )
        return rows


def _failed(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"
