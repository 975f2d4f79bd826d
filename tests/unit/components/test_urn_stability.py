"""A stack's resources keep their URNs: a renamed component, type or logical name would make
`pulumi up` replace what exists (unless it carries an alias). dev_urns.txt is the dev stack's
URNs, with and without TLS, as deployed stacks have them; a content-addressed name (a config or
secret named after its content's hash, new with every new content) shows as ``<sha>``."""

from __future__ import annotations

import re
from pathlib import Path

from offline_runner.mock_program import run_stack
from tests.support.tls import issue

RECORDED = Path(__file__).with_name("dev_urns.txt")
CONTENT_HASH = re.compile(r"-[0-9a-f]{12}$")


def test_the_dev_stack_keeps_every_urn():
    urns = {r.urn for r in run_stack("dev").resources}
    urns |= {r.urn for r in run_stack("dev", secrets=issue("localhost").secrets).resources}
    assert sorted({CONTENT_HASH.sub("-<sha>", urn) for urn in urns}) == RECORDED.read_text().split()
