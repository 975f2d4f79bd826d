"""Zero-downtime benchmark: the same load through a v1 -> v2 rollout, for three setups.

(a) the tutorial's stack as written, (b) the same plus nginx's `resolve` fix,
(c) this project's `dev` stack. Run with `make bench` (see `python -m bench --help`);
not part of the tests.
"""
