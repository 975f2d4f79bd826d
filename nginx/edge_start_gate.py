"""The edge's start gate: its nginx listens once the node's DNS knows two L7 tasks, or after a bound.

A node back from a power loss starts its edge at once, while the node's view of
the L7 tier (Docker's DNS answer for tasks.<tier>, which the edge's nginx asks)
fills in over the next seconds: 4.2 and 5.0 s measured on this project's test
cluster, at least 9 s in one CI run. An edge that knows one L7 task sends it
every request, and answers 504 when that task's node dies. Until nginx listens,
the node refuses connections, which a client or a load balancer can retry on
another node whatever the request was. So the edge's container starts with a
shell that waits until the name resolves to MIN_L7_TASKS addresses, for at most
BOUND, and then becomes nginx (exec: the stop signal reaches nginx from then on),
or, with a drain (edgeDrain, nginx/edge_drain.py), starts nginx as its child and
stays to drain before it stops nginx.

What it asks of the edge image: /bin/sh, date and sleep, which nginx images
have (the health check already runs in the shell; dash and BusyBox's ash are
tested), and getent (Debian's libc-bin; Alpine's musl-utils, not tried here). Without getent, nginx starts
at once and the container's log says so. It logs one line: how many L7 tasks
it knew, after how long.

It waits on Docker's DNS, not on nginx: nginx fills its upstream from a timer
once it listens, so the requests of its first moments find it empty. The edge's
second pass (@fresh_peers in edge.conf.j2) resolves the tier's name for the
request instead, which Docker's DNS answers by then (tests/nginx/test_edge_second_pass.py).
"""

from __future__ import annotations

import re
import shlex

from swarm_zero_downtime.nginx.edge_drain import MARKER, NO_DRAIN, drain_tail
from swarm_zero_downtime.nginx.l7_tier import MIN_REPLICAS
from swarm_zero_downtime.swarm.values import SECOND, Duration

# As many as the tier has at least: one of them can die with its node.
MIN_L7_TASKS = MIN_REPLICAS
# Below the edge's health window (NGINX_HEALTH: 2 s start period, then 3 failed
# checks 4 s apart), so Swarm never takes a gated edge for a broken one.
BOUND = Duration(10 * SECOND)
LOG_PREFIX = "edge start gate:"
NGINX = "nginx -g 'daemon off;'"

_SCRIPT = """\
trap 'exit 0' TERM QUIT INT
if command -v getent >/dev/null 2>&1; then
    started=$(date +%s)
    known() {{ getent hosts {name} | wc -l; }}
    while [ "$(known)" -lt {want} ] && [ $(($(date +%s) - started)) -lt {bound} ]; do
        sleep 0.2 2>/dev/null || sleep 1
    done
    echo "{prefix} $(($(known))) L7 tasks known after $(($(date +%s) - started))s (waits for {want}, at most {bound}s)" >&2
else
    echo "{prefix} no getent in this image: nginx starts without waiting for the L7 tier" >&2
fi
"""


def start_gate_command(
    l7_host: str, bound: Duration = BOUND, drain: Duration = NO_DRAIN, marker: str = MARKER
) -> list[str]:
    """The edge container's command: the gate for ``l7_host`` (tasks.<tier>), then nginx, drained
    for ``drain`` once stopped (``marker``: the file the drain creates)."""
    gate = _SCRIPT.format(name=shlex.quote(l7_host), want=MIN_L7_TASKS, bound=bound.nanos // SECOND, prefix=LOG_PREFIX)
    return ["/bin/sh", "-c", gate + (drain_tail(NGINX, drain, marker) if drain.nanos else f"exec {NGINX}\n")]


_LOGGED = re.compile(rf"^{re.escape(LOG_PREFIX)} (\d+) L7 tasks known after (\d+)s", re.M)


def gate_waited(log: str) -> tuple[int, int] | None:
    """What the gate logged in an edge container's log: (L7 tasks known, whole seconds waited); None without getent."""
    found = _LOGGED.search(log)
    return (int(found[1]), int(found[2])) if found else None
