"""A 3-node swarm made for the module, the cluster stack applied to it, and all of it removed at the end.

The whole session holds the cluster lock: a cluster run never overlaps another
or a benchmark on the same 2 cores (make test runs it beside the e2e suite,
which deploys to the host's own swarm). Leftovers of an interrupted run go
first; the nodes, their volumes and their network go at the end, also after
a failure.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from engine_standin.swarm_applier import StackState
from engine_standin.swarm_env import cluster_lock, local_registry
from tests.cluster.nodes import NODES, PROVISION, Cluster, cluster_ready, host_api, leftovers, teardown
from tests.cluster.stack import SECTION, STACK, Deployment
from tests.conftest import record_measurement, require


def forget_state() -> None:
    """The applier's state of the stack: it described a cluster that no longer exists."""
    StackState.load(STACK).path.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    ready, what = cluster_ready()
    require(ready, what, PROVISION)
    asked = time.monotonic()
    with cluster_lock():
        locked = time.monotonic()
        api = host_api()
        teardown(api)  # leftovers of an interrupted run
        forget_state()
        registry = local_registry()
        cluster = Cluster(registry)
        try:
            cluster.up()
            print(
                f"\ncluster: 3 nodes trusting the registry and a swarm of 3 managers ready in {cluster.setup_s:.1f}s",
                flush=True,
            )
            record_measurement(SECTION, f"set-up: 3 nodes, swarm of 3 managers: {cluster.setup_s:.1f}s")
            d = Deployment(cluster, manager=NODES[0], registry=registry)
            d.initial = d.apply()
            yield d
        finally:
            teardown(api)
            forget_state()
            left = leftovers(api)
            session = f"cluster session: {time.monotonic() - locked:.0f}s (after {locked - asked:.0f}s waiting for the cluster lock)"
            print(f"\n{session}", flush=True)
            record_measurement(SECTION, session)
            # `docker ps -a` and `docker network ls` on the host show nothing of it.
            assert not left, f"the cluster's teardown left {left}"
