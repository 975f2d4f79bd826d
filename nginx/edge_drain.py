"""The edge's drain (edgeDrain): a stopping edge first tells the load balancer, then stops.

With host publishing a node refuses connections from the moment its edge's
nginx closes its listener until the next one listens. A load balancer in front
of the nodes sends nothing to a node it has taken out, so the edge first fails
the load balancer's health check and keeps serving, and only then stops.

The edge's container command then keeps its shell as PID 1, which the stop
signal (SIGQUIT, or TERM and INT from a manual `docker stop`) reaches: it
creates MARKER (removed at start, should the container be restarted in
place), on which the public health location answers 503
(edge.conf.j2), logs one line, waits the drain with nginx serving everything,
then sends nginx QUIT (its graceful stop) and exits with nginx's status once
nginx has exited. An nginx that exits by itself (a crash) ends the shell at
once with its status, so Swarm replaces it as it replaces one without drain.

A non-interactive shell starts a background command with SIGQUIT and SIGINT
ignored (POSIX, "Signals"); nginx sets its own handlers for them at start
(ngx_init_signals), so the QUIT it is sent still stops it gracefully.
"""

from __future__ import annotations

import shlex

from swarm_zero_downtime.swarm.values import MINUTE, SECOND, Duration

# /tmp: writable by the shell and readable by nginx's workers in any nginx image.
MARKER = "/tmp/edge-draining"
# edgeDrain's default: the edge stops at once, its command ends in `exec nginx`.
NO_DRAIN = Duration(0)
# An edge rollout holds each node for its drain, one node after the other; a
# load balancer that takes longer than this to notice a failing node is hardly
# checking it.
LONGEST_DRAIN = Duration(5 * MINUTE)
LOG_PREFIX = "edge: draining for"

# The drain's trap replaces the gate's (`exit 0`) before nginx starts: a stop
# signal in between would end the shell and leave nginx to be killed with the
# container, undrained. $! is empty until nginx has started.
_TAIL = """\
rm -f {marker}
drain() {{
    trap '' TERM QUIT INT
    [ -n "$!" ] || exit 0
    : > {marker}
    echo "{prefix} {seconds}s before nginx stops" >&2
    sleep {seconds}
    kill -QUIT "$!" 2>/dev/null
    wait "$!"
    exit $?
}}
trap drain TERM QUIT INT
{nginx} &
wait "$!"
exit $?
"""


def tls_connection_lifetime(drain: Duration) -> Duration | None:
    """How long the L7 tier reuses one TLS connection when the edge drains: half the drain; None without one.

    The edge passes TLS through: a load balancer in TCP mode keeps the connections it
    opened through a node it has taken out, and only the L7 tier, which ends TLS, can
    close them between two requests (keepalive_time: the first request after it is
    answered with "Connection: close", or an HTTP/2 GOAWAY; ngx_http_update_location_config,
    ngx_http_v2_state_headers). Half the drain for the load balancer to take the node out,
    half for the connections it leaves there to end before nginx stops.
    """
    return Duration(drain.nanos // 2) if drain.nanos else None


def drain_tail(nginx: str, drain: Duration, marker: str = MARKER) -> str:
    """The end of the edge's command with a drain: nginx as the shell's child, stopped ``drain`` after the signal.

    ``drain`` in whole seconds (POSIX sleep takes no fraction): settings allow no other.
    """
    if drain.nanos <= 0 or drain.nanos % SECOND:
        raise ValueError(f"a drain is a whole number of seconds above 0, not {drain.text}")
    return _TAIL.format(nginx=nginx, marker=shlex.quote(marker), prefix=LOG_PREFIX, seconds=drain.nanos // SECOND)
