from __future__ import annotations

import pytest

from tests.conftest import require
from tests.support.edge_command import PROVISION_SHELLS, SHELLS, Shell


@pytest.fixture(params=SHELLS, ids=lambda shell: shell.name)
def shell(request: pytest.FixtureRequest) -> Shell:
    """Each /bin/sh the edge's command meets in an nginx image (tests/support/edge_command.py)."""
    shell: Shell = request.param
    require(shell.path is not None, shell.name, PROVISION_SHELLS)
    return shell
