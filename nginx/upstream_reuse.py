"""How both tiers reuse their connections to the next hop without meeting one its other end is closing.

nginx 1.29.7 and newer keep idle connections to every upstream block of the
config alive by default (up to 32 per worker, each location its own: nginx
commit 4fbe4b627) once requests go out in HTTP/1.1 without
``Connection: close``, which both tiers send. Older images open a new
connection for every request. What this module decides is the rest:

- Which requests ride a kept connection: GET and HEAD only. nginx sends a
  request on a kept connection before it can know that the other end has just
  closed it (a draining task, an idle timeout) and then reads the close. A GET
  is sent again (ngx_http_upstream_next: a failed cached connection does not
  even count against proxy_next_upstream_tries), but a POST already sent never
  is. Other methods go to a location of their own (limit_except, so its
  cache is not shared) and ask for ``Connection: close``, so no connection is
  ever kept for them.
- How long an idle kept connection stays: less than its other end keeps it,
  so nginx closes it first and never reuses one that is being closed.
"""

from __future__ import annotations

from swarm_zero_downtime.nginx.client_limits import KEEPALIVE_TIMEOUT
from swarm_zero_downtime.swarm.values import SECOND, Duration

# The edge's idle connections to an L7 task: the L7 tier closes the edge's idle
# connections after KEEPALIVE_TIMEOUT (30 s); the edge closes them well before.
EDGE_TO_L7_IDLE = Duration(KEEPALIVE_TIMEOUT.nanos - 5 * SECOND)
# The L7 tier's idle connections to an app task. How long the app keeps an idle
# connection is the app's own: 2 s for gunicorn's async workers, 5 s for
# Node.js and uvicorn, 20 s for puma; 1 s is below each.
L7_TO_APP_IDLE = Duration(SECOND)
