"""Fixtures for the real-nginx tests: the rootfs nginx, gixy, loopback sites, and a
report of every scenario's measured counts at the end of the pytest run."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from swarm_zero_downtime.nginx.l7_tier import TLS_PEM_PATH
from tests.conftest import record_measurement, require
from tests.support.nginx_chroot import HOW_TO_PROVISION, NginxInstall, find_nginx
from tests.support.nginx_loopback import LoopbackSite, Tally
from tests.support.tls import IssuedCertificate, issue


@pytest.fixture(scope="session")
def nginx_install() -> NginxInstall:
    install, why = find_nginx()
    require(install is not None, f"nginx >= 1.27.4 from the provisioned rootfs via chroot ({why})", HOW_TO_PROVISION)
    assert install is not None
    return install


@pytest.fixture(scope="session")
def certificate(nginx_install: NginxInstall) -> IssuedCertificate:
    """A throw-away certificate for app.example.com, also where the L7 tier's config expects it in
    the rootfs (a Swarm secret in a task) for `nginx -t`."""
    issued = issue("app.example.com")
    pem = nginx_install.rootfs / TLS_PEM_PATH.lstrip("/")
    pem.parent.mkdir(parents=True, exist_ok=True)
    pem.write_text(issued.chain + issued.key)
    return issued


@pytest.fixture(scope="session")
def gixy() -> str:
    found = shutil.which("gixy") or str(Path(sys.executable).parent / "gixy")
    require(Path(found).is_file(), "gixy (PyPI gixy-ng)", "make venv (requirements-dev.txt has gixy-ng)")
    return found


@pytest.fixture
def site(nginx_install: NginxInstall) -> Iterator[LoopbackSite]:
    """The dev stack's nginx config in front of two real and two backup loopback backends."""
    with LoopbackSite(nginx_install, "dev") as started:
        yield started


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[Any], str]:
    """Print a scenario's counts now (pytest -s) and again in the run's summary."""

    def add(measured: Tally | str) -> str:
        line = measured.line() if isinstance(measured, Tally) else str(measured)
        print(line)
        record_measurement("nginx 1.30 on loopback: what each scenario measured", f"{request.node.name}: {line}")
        return line

    return add
