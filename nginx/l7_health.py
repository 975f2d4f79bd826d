"""The L7 tier's health check: nginx answers on its loopback health port and,
with TLS on, completes a handshake on its own TLS listener.

nginx starts with some certificates it cannot serve: a DSA pair loads, but TLS
1.3 has no DSA signature and the TLS 1.2 ciphers here are ECDSA and RSA only,
so every handshake fails. Validation refuses the key types nginx 1.30 cannot
serve (settings/tls.py); another image's OpenSSL may serve fewer. A task
whose handshake fails never turns healthy,
and Swarm's start-first rollout rolls back (updateConfig failure_action)
instead of replacing serving tasks with ones that refuse every HTTPS client.
"""

from __future__ import annotations

import shlex

from swarm_zero_downtime.nginx.l7_tier import LOCAL_HOSTS, L7TierConfigArgs
from swarm_zero_downtime.swarm.service_spec import http_probe

# What an image without curl reports in its health log (`docker inspect`).
NO_CURL = "no curl in the image: the TLS listener is not checked"


def tls_probe(server_name: str | None, listen_port: int, method: str) -> str:
    """A shell command that succeeds once a TLS handshake on 127.0.0.1:``listen_port`` completes.

    Only curl can send the PROXY protocol header the listener expects first
    (the edge sends one) and a server name other than the address it connects
    to; busybox wget can do neither, so an image without curl (nginx's
    -alpine-slim) gets the plain check alone and says so.
    """
    # The site's name as SNI picks its server and certificate; any other name's
    # handshake is refused by the default server. Connected to this task's own
    # listener whatever the name resolves to: no DNS, no resolvable name needed.
    name = shlex.quote(server_name or LOCAL_HOSTS[0])
    curl = " ".join(
        [
            "curl -sS -o /dev/null",
            # The chain is not verified: an expired certificate, or one for a
            # private CA or self-signed, still serves, and failing the check on
            # that would restart every task of the tier at once. The
            # handshake only completes with the server's own certificate and key.
            "-k",
            "--haproxy-protocol",
            f"--connect-to ::127.0.0.1:{listen_port}",
            # nginx refuses this method itself (405) before any location, so the
            # probe never reaches the app; any answer means the handshake completed.
            f"-X {method}",
            f"https://{name}/",
        ]
    )
    return f"if command -v curl >/dev/null; then {curl}; else echo {shlex.quote(NO_CURL)}; fi"


def l7_health_command(config: L7TierConfigArgs) -> str:
    """The L7 task's health check, for Docker's CMD-SHELL."""
    plain = http_probe(config.health_port, config.health_path)
    if config.tls is None:
        return plain
    return f"{{ {plain}; }} && {tls_probe(config.server_name, config.tls.listen_port, config.tls.probe_method)}"
