"""The nginx configs the program renders, for real-nginx tests.

`program_config` runs the real Pulumi program for a stack under mocks and returns
the exact file it mounts for the L7 tier. `loopback_config` renders the same file
with only what a loopback test must place elsewhere changed (``LoopbackPlaces``:
the `resolver` address, since Docker's 127.0.0.11 is not on the host and the
test's DNS stub is; the ports; the trusted proxy address; the PEM file's path).
`edge_loopback_config` does the same for the edge's nginx.conf. Both check, line
by line, that everything else is byte for byte what the program mounts.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from typing import Any

import pulumi

from offline_runner.mock_program import run_stack
from offline_runner.stack_config import load_stack_config, project_name
from swarm_zero_downtime.nginx.edge import EdgeConfigArgs, edge_config_args, render_edge_config
from swarm_zero_downtime.nginx.l7_tier import L7TierConfigArgs, NginxSite, l7_tier_config_args, render_l7_tier_config
from swarm_zero_downtime.settings import StackSettings, load_settings
from swarm_zero_downtime.swarm.naming import l7_tier_name
from tools.render_nginx import edge_config, nginx_config


def program_config(stack: str, overrides: dict[str, Any] | None = None, secrets: dict[str, str] | None = None) -> str:
    """What the program mounts as conf.d/default.conf for the stack."""
    return nginx_config(run_stack(stack, overrides=overrides, secrets=secrets))


def stack_settings(
    stack: str, overrides: dict[str, Any] | None = None, secrets: dict[str, str] | None = None
) -> StackSettings:
    secrets = secrets or {}
    pulumi.runtime.set_all_config(
        load_stack_config(stack, overrides={**(overrides or {}), **secrets}),
        [f"{project_name()}:{key}" for key in secrets],
    )
    return load_settings(pulumi.Config(project_name()))


def settings_config_args(settings: StackSettings) -> L7TierConfigArgs:
    """The template's args for a stack, from its settings rather than from the program."""
    return l7_tier_config_args(
        settings.app.name,
        settings.app.port,
        settings.pools.endpoint_mode,
        settings.pools.backup_enabled,
        settings.nginx.upstream,
        NginxSite(
            settings.app.public_host,
            settings.nginx.edge_subnet,
            settings.tls.https_port if settings.tls.certificate else None,
            settings.nginx.edge_drain,
        ),
        settings.nginx.clients,
        settings.nginx.protocols,
    )


@dataclass(frozen=True)
class LoopbackPlaces:
    """What a loopback test must put elsewhere than the program does (nothing else may differ)."""

    resolver: str
    """The test's DNS stub, not Docker's 127.0.0.11."""
    listen_port: int
    health_port: int
    trusted_proxies: str | None = None
    """Where an edge connects from on loopback; None keeps the edge network's subnet (no edge in front)."""
    https_port: int | None = None
    pem_path: str | None = None


# Directives the places above may change; a changed line of any other kind fails the check.
PLACED = ("resolver ", "listen ", "set_real_ip_from ", "ssl_certificate ", "ssl_certificate_key ")


def loopback_config(
    stack: str, overrides: dict[str, Any] | None, places: LoopbackPlaces, secrets: dict[str, str] | None = None
) -> tuple[str, L7TierConfigArgs]:
    """(config text, its args): the program's config with only the loopback places changed."""
    mounted = program_config(stack, overrides, secrets)
    args = settings_config_args(stack_settings(stack, overrides, secrets))
    rendered = render_l7_tier_config(args)
    if rendered != mounted:
        diff = "\n".join(
            difflib.unified_diff(mounted.splitlines(), rendered.splitlines(), "program", "settings", lineterm="")
        )
        raise AssertionError(f"rendering from settings differs from what the program mounts:\n{diff}")
    tls = args.tls
    if tls is not None:
        assert places.https_port is not None and places.pem_path is not None, "a TLS stack needs a port and a PEM file"
        tls = dataclasses.replace(tls, listen_port=places.https_port, pem_path=places.pem_path)
    test_args = dataclasses.replace(
        args,
        resolver=places.resolver,
        listen_port=places.listen_port,
        health_port=places.health_port,
        trusted_proxies=places.trusted_proxies or args.trusted_proxies,
        tls=tls,
    )
    text = render_l7_tier_config(test_args)
    check_only_placed(mounted, text, PLACED)
    return text, test_args


def check_only_placed(mounted: str, text: str, placed: tuple[str, ...]) -> None:
    changed = [line for line in difflib.ndiff(mounted.splitlines(), text.splitlines()) if line.startswith(("- ", "+ "))]
    unexpected = [line for line in changed if not line[2:].lstrip().startswith(placed)]
    if unexpected:
        raise AssertionError(
            f"the test config differs from the program's beyond {', '.join(p.strip() for p in placed)}:\n"
            + "\n".join(unexpected)
        )


@dataclass(frozen=True)
class EdgePlaces:
    resolver: str
    http_port: int
    https_port: int | None
    health_port: int
    l7_http_port: int
    l7_https_port: int
    sandbox_dir: str
    """The chroot folder for the pid file, the error log (the edge's are /run and stderr) and,
    with edgeDrain, the drain's marker file (DRAIN_MARKER_NAME there, not the shared /tmp)."""


DRAIN_MARKER_NAME = "edge-draining"
EDGE_PLACED = ("resolver ", "listen ", "server ", "pid ", "error_log ", "set $l7_tasks ", "if (-f ")


def edge_loopback_config(
    stack: str, overrides: dict[str, Any] | None, places: EdgePlaces, secrets: dict[str, str] | None = None
) -> tuple[str, EdgeConfigArgs]:
    """(nginx.conf text, its args): the program's edge config with only the loopback places changed."""
    program = run_stack(stack, overrides=overrides, secrets=secrets)
    mounted = edge_config(program)
    settings = stack_settings(stack, overrides, secrets)
    args = edge_config_args(
        l7_tier_name(settings.app.name),
        tls=settings.tls.certificate is not None,
        stop_grace_period=settings.pools.stop_grace_period,
        clients=settings.nginx.clients,
        publish_mode=settings.nginx.publish_mode,
        drain=settings.nginx.edge_drain,
    )
    if render_edge_config(args) != mounted:
        raise AssertionError("rendering the edge from settings differs from what the program mounts")
    test_args = dataclasses.replace(
        args,
        resolver=places.resolver,
        http_port=places.http_port,
        https_port=places.https_port if args.https_port is not None else None,
        health_port=places.health_port,
        l7_http_port=places.l7_http_port,
        l7_https_port=places.l7_https_port,
        drain_marker=f"{places.sandbox_dir}/{DRAIN_MARKER_NAME}" if args.drain_marker else None,
    )
    text = render_edge_config(test_args)
    text = text.replace("pid /run/nginx.pid;", f"pid {places.sandbox_dir}/nginx.pid;").replace(
        "error_log stderr;", f"error_log {places.sandbox_dir}/error.log info;"
    )
    check_only_placed(mounted, text, EDGE_PLACED)
    return text, test_args
