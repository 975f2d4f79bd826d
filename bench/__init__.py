"""Zero-downtime benchmark: the same load through a v1 -> v2 rollout, for three setups.

(a) the tutorial's stack as written, (b) the same plus nginx's `resolve` fix,
(c) this project's `dev` stack. Then each change of the edge under the same load
(`bench/edge_changes.py`), the tutorial's nginx beside this project's edge. Then
what the `dev` stack's edge and L7 tier cost
(`bench/tier_cost.py`): the latency the edge and the L7 tier add, and the most
requests/s a path sustains before errors, against straight to one app task, with
`hey` and `wrk`. Run with `make bench` (see `python -m bench --help`); not part
of the tests.
"""
