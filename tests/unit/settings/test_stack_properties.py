"""Generated stack files: every invalid one fails naming each bad key, none with a traceback.

The real nginx half of the property (every valid one renders a config that
real `nginx -t` accepts) is in tests/nginx/test_generated_stacks.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from tests.support.stack_strategies import PROJECT, Written, stack_files, write_stack
from tools.validate import check_stack

# Keys whose problem can follow from other keys' valid values (rules that span keys).
CROSS_KEYS = {
    "updateParallelism",
    "rollbackParallelism",
    "updateMonitor",
    "rollbackMonitor",
    "nginxNextUpstreamTries",
    "nginxReadTimeout",
    "nginxSendTimeout",
    "overlaySubnet",
    "edgeSubnet",
    "edgeDrain",
}


def problems_of(values: dict[str, Written]) -> list[str]:
    """Every problem line `make validate` reports for the stack (none when it is valid)."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = write_stack(Path(tmp), values)
        return check_stack(stack, Path(tmp))[1]


def named_key(problem: str) -> str:
    """The short key a problem line names ("Pulumi.prop.yaml: " first for file-level ones)."""
    line = problem.removeprefix("Pulumi.prop.yaml: ")
    assert line.startswith(f"{PROJECT}:"), f"a problem that names no key: {problem!r}"
    return line.split(": ")[0].removeprefix(f"{PROJECT}:")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack_files())
def test_every_bad_key_is_named_and_nothing_else_but_rules_that_span_keys(values):
    bad = {key for key, written in values.items() if not written.valid}
    problems = problems_of(values)  # any other exception fails the test with its traceback
    named = [named_key(p) for p in problems]
    assert bad <= set(named), f"bad keys not named: {bad - set(named)}; problems: {problems}"
    assert set(named) <= bad | CROSS_KEYS, f"good keys named: {set(named) - bad - CROSS_KEYS}; problems: {problems}"
    assert len(named) == len(set(named)), f"a key named twice: {problems}"
