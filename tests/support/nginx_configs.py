"""The nginx configs the program renders, for real-nginx tests.

`program_config` runs the real Pulumi program for a stack under mocks and returns
the exact file it mounts. `loopback_config` renders the same file with only the
two things a loopback test must change replaced: the `resolver` address (Docker's
127.0.0.11 is not on the host; the test's DNS stub is) and the `listen` port. It
checks that everything else is byte for byte what the program mounts.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

import pulumi

from nginx.config import NginxConfigArgs, nginx_config_args, render_nginx_config
from settings import StackSettings, load_settings
from standins.mock_program import run_stack
from standins.stack_config import load_stack_config, project_name
from tools.render_nginx import nginx_config


def program_config(stack: str, overrides: dict[str, Any] | None = None) -> str:
    """What the program mounts as conf.d/default.conf for the stack."""
    return nginx_config(run_stack(stack, overrides=overrides))


def stack_settings(stack: str, overrides: dict[str, Any] | None = None) -> StackSettings:
    pulumi.runtime.set_all_config(load_stack_config(stack, overrides=overrides))
    return load_settings(pulumi.Config(project_name()))


def settings_config_args(settings: StackSettings) -> NginxConfigArgs:
    """The template's args for a stack, from its settings rather than from the program."""
    return nginx_config_args(
        settings.app.name,
        settings.app.port,
        settings.pools.endpoint_mode,
        settings.pools.backup_enabled,
        settings.nginx.upstream,
    )


def loopback_config(
    stack: str, overrides: dict[str, Any] | None, *, resolver: str, listen_port: int
) -> tuple[str, NginxConfigArgs]:
    """(config text, its args): the program's config with resolver and listen port replaced."""
    mounted = program_config(stack, overrides)
    args = settings_config_args(stack_settings(stack, overrides))
    rendered = render_nginx_config(args)
    if rendered != mounted:
        diff = "\n".join(
            difflib.unified_diff(mounted.splitlines(), rendered.splitlines(), "program", "settings", lineterm="")
        )
        raise AssertionError(f"rendering from settings differs from what the program mounts:\n{diff}")
    test_args = dataclasses.replace(args, resolver=resolver, listen_port=listen_port)
    text = render_nginx_config(test_args)
    changed = [line for line in difflib.ndiff(mounted.splitlines(), text.splitlines()) if line.startswith(("- ", "+ "))]
    unexpected = [line for line in changed if not line[2:].lstrip().startswith(("resolver ", "listen "))]
    if unexpected:
        raise AssertionError(
            "the test config differs from the program's beyond resolver and listen:\n" + "\n".join(unexpected)
        )
    return text, test_args
