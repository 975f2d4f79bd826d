"""`make render-nginx STACK=name`: print the nginx configs the program mounts for a stack:
the L7 tier's (conf.d/default.conf), then the edge's (nginx.conf)."""

from __future__ import annotations

import argparse
import base64

from offline_runner.mock_program import DeclaredProgram
from offline_runner.resource_types import SERVICE_CONFIG
from swarm_zero_downtime.swarm.naming import config_owner, edge_name, l7_tier_name
from tools.validate import declare_or_exit


def _mounted(program: DeclaredProgram, tier: str) -> str:
    (config,) = [c for c in program.of_type(SERVICE_CONFIG) if config_owner(c.name).endswith(tier)]
    return base64.b64decode(config.inputs["data"]).decode()


def nginx_config(program: DeclaredProgram) -> str:
    """The L7 tier's config."""
    return _mounted(program, l7_tier_name(""))


def edge_config(program: DeclaredProgram) -> str:
    return _mounted(program, edge_name(""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: renders for Pulumi.<stack>.yaml")
    program = declare_or_exit(parser.parse_args(argv).stack)
    print("# ---- L7 tier: /etc/nginx/conf.d/default.conf", nginx_config(program), sep="\n", end="")
    print("\n# ---- edge: /etc/nginx/nginx.conf", edge_config(program), sep="\n", end="")


if __name__ == "__main__":
    main()
