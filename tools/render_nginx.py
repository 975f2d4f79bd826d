"""`make render-nginx STACK=name`: print the nginx config the program mounts for a stack."""

from __future__ import annotations

import argparse
import base64

from standins.mock_program import DeclaredProgram
from standins.resource_types import SERVICE_CONFIG
from tools.validate import declare_or_exit


def nginx_config(program: DeclaredProgram) -> str:
    (config,) = program.of_type(SERVICE_CONFIG)
    return base64.b64decode(config.inputs["data"]).decode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: renders for Pulumi.<stack>.yaml")
    print(nginx_config(declare_or_exit(parser.parse_args(argv).stack)), end="")


if __name__ == "__main__":
    main()
