"""The L7 tier's health check: the command Docker runs in each task, run by the
rootfs's shell and curl (as in nginx's images) against the program's config on
real nginx 1.30 with TLS (tests/support/nginx_loopback.py has the layout).
"""

from __future__ import annotations

import datetime
import subprocess
from collections.abc import Callable, Iterator

import pytest

from offline_runner.mock_program import run_stack
from offline_runner.resource_types import SERVICE
from swarm_zero_downtime.components.nginx_service import NGINX_HEALTH
from swarm_zero_downtime.nginx.l7_health import l7_health_command
from swarm_zero_downtime.nginx.l7_tier import HEALTH_PORT, HTTPS_PORT
from swarm_zero_downtime.swarm.service_spec import http_probe
from tests.support.nginx_chroot import NginxInstall, run_in_rootfs
from tests.support.nginx_loopback import LoopbackSite
from tests.support.tls import PAIRS, issue

HOST = "app.example.com"


def program_health_command(site: LoopbackSite) -> str:
    """What the program declares as the L7 service's health check for the site's stack."""
    program = run_stack(site.stack, overrides={"appPort": site.port, **site.overrides}, secrets=site.secrets)
    tests = program.get(SERVICE, "webapp-nginx").inputs["taskSpec"]["containerSpec"]["healthcheck"]["tests"]
    assert tests[0] == "CMD-SHELL"
    return str(tests[1])


def loopback_health_command(site: LoopbackSite) -> str:
    """The program's command with only the ports the loopback config moved (checked against the site's args)."""
    tls = site.args.tls
    assert tls is not None
    command = (
        program_health_command(site)
        .replace(f"127.0.0.1:{HEALTH_PORT}/", f"127.0.0.1:{site.args.health_port}/")
        .replace(f"--connect-to ::127.0.0.1:{HTTPS_PORT} ", f"--connect-to ::127.0.0.1:{tls.listen_port} ")
    )
    assert command == l7_health_command(site.args)
    return command


def health_check(site: LoopbackSite, command: str | None = None) -> subprocess.CompletedProcess[str]:
    """One run of the task's health check, bounded by Docker's timeout for it."""
    return run_in_rootfs(site.install, command or loopback_health_command(site), NGINX_HEALTH.timeout.seconds)


@pytest.fixture
def tls_site(nginx_install: NginxInstall, request: pytest.FixtureRequest) -> Iterator[LoopbackSite]:
    """The site of ``request.param``: (overrides, a function making the stack's TLS secrets)."""
    overrides, secrets = request.param
    with LoopbackSite(nginx_install, overrides=overrides, secrets=secrets()) as site:
        yield site


SERVED = {"publicHost": HOST}
# Made when a test runs, not when the tests are collected.
GOOD_PAIRS: dict[str, tuple[dict[str, str], Callable[[], dict[str, str]]]] = {
    "issued by a CA": (SERVED, lambda: issue(HOST).secrets),
    # Not verified: an expired certificate still serves, and a check that
    # failed on it would restart every task of the tier at once.
    "expired": (SERVED, lambda: issue(HOST, not_after=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)).secrets),
    # publicHost localhost: no default server, any name's handshake gets the certificate.
    "every host served": ({}, lambda: issue("localhost").secrets),
}


@pytest.mark.parametrize("tls_site", GOOD_PAIRS.values(), ids=GOOD_PAIRS.keys(), indirect=True)
def test_the_health_check_completes_a_tls_handshake_and_is_not_logged(tls_site: LoopbackSite, report):
    checked = health_check(tls_site)
    report(f"L7 health check with TLS ({tls_site.overrides}): exit {checked.returncode} {checked.stderr.strip()!r}")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == checked.stderr == ""
    # Refused by nginx's core (TRACE: 405) over TLS, so never passed to the app,
    # and kept out of the access log.
    assert "client sent TRACE method" in tls_site.nginx.error_log()
    tls_site.nginx.stop()  # its workers write their buffered access log lines as they exit
    assert tls_site.nginx.access_log() == []


def test_a_pair_nginx_loads_but_cannot_serve_fails_the_health_check(nginx_install: NginxInstall, report):
    # Validation refuses a DSA pair (settings/tls.py); nginx is given one past it,
    # standing for any pair an nginx image loads and cannot serve.
    dsa = PAIRS["dsa-2048"](HOST)
    with LoopbackSite(nginx_install, overrides=SERVED, secrets=issue(HOST).secrets, loaded_pair=dsa) as site:
        # nginx -t and the start passed (LoopbackSite checks both); the plain check passes too.
        assert site.args.tls is not None
        plain = health_check(site, http_probe(site.args.health_port, site.args.health_path))
        assert plain.returncode == 0, plain.stderr
        checked = health_check(site)
    report(f"L7 health check with a DSA pair: exit {checked.returncode} {checked.stderr.strip()!r}")
    assert checked.returncode != 0
    assert "SSL" in checked.stderr or "TLS" in checked.stderr, checked.stderr
