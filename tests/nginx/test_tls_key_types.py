"""The key types validation accepts are the ones real nginx 1.30 serves.

Each self-signed pair is loaded by the L7 tier's TLS listener (the config
rendered with a CA-issued pair, as validation refuses some of these), then
handshakes are tried with Python's ssl over TLS 1.3 and 1.2 and with the tier's
own health check (curl). A pair is accepted exactly when all three complete:
the rootfs's curl (OpenSSL 3.6) completes one with a brainpoolP256r1 key, for
one, but Python's ssl (OpenSSL 3.0) does not.
"""

from __future__ import annotations

import socket
import ssl

import pytest

from offline_runner.mock_program import run_stack
from swarm_zero_downtime.components.nginx_service import NGINX_HEALTH
from swarm_zero_downtime.nginx.l7_health import l7_health_command
from swarm_zero_downtime.settings import SettingsError
from tests.support.nginx_chroot import NginxInstall, run_in_rootfs
from tests.support.nginx_loopback import LoopbackSite
from tests.support.tls import PAIRS, issue

HOST = "app.example.com"
SERVED: dict[str, object] = {"publicHost": HOST}
# The line the edge sends first on every connection to the TLS listener.
PROXY_HEADER = b"PROXY TCP4 127.0.0.9 127.0.0.1 40000 443\r\n"
TOO_SHORT = ("rsa-1024", "rsa-pss-1024")


def accepted(pair: dict[str, str]) -> bool:
    try:
        run_stack("dev", overrides=SERVED, secrets=pair)
    except SettingsError:
        return False
    return True


def handshake(port: int, version: ssl.TLSVersion) -> str:
    """The version agreed with Python's ssl, or why the handshake failed."""
    context = ssl.create_default_context()
    # Self-signed: the key's type is under test, not the chain.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(PROXY_HEADER)
        try:
            with context.wrap_socket(sock, server_hostname=HOST) as tls:
                return str(tls.version())
        except ssl.SSLError as error:
            return str(error.reason)


@pytest.mark.parametrize("key_type", [name for name in PAIRS if name not in TOO_SHORT])
def test_a_pair_nginx_loads_is_served_exactly_when_validation_accepts_it(
    nginx_install: NginxInstall, key_type: str, report
):
    pair = PAIRS[key_type](HOST)
    with LoopbackSite(nginx_install, overrides=SERVED, secrets=issue(HOST).secrets, loaded_pair=pair) as site:
        assert site.args.tls is not None
        port = site.args.tls.listen_port
        agreed = [handshake(port, version) for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2)]
        curl = run_in_rootfs(site.install, l7_health_command(site.args), NGINX_HEALTH.timeout.seconds)
    served = agreed == ["TLSv1.3", "TLSv1.2"] and curl.returncode == 0
    verdict = "accepts" if accepted(pair) else "refuses"
    report(f"{key_type}: validation {verdict}; Python's ssl: {agreed}; curl: exit {curl.returncode}")
    assert verdict == ("accepts" if served else "refuses"), curl.stderr


@pytest.mark.parametrize("key_type", TOO_SHORT)
def test_a_short_rsa_key_stops_nginx_and_is_refused_by_validation(nginx_install: NginxInstall, key_type: str):
    pair = PAIRS[key_type](HOST)
    # OpenSSL's default security level (2) asks for 2048 bits at least.
    with pytest.raises(AssertionError, match="ee key too small"):
        LoopbackSite(nginx_install, overrides=SERVED, secrets=issue(HOST).secrets, loaded_pair=pair).start()
    assert not accepted(pair)
