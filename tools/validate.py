"""`make validate STACK=name`: run the whole program for a stack without an engine.

Exits 0 with a one-line summary of what the stack would declare, or 1 with
every problem in the stack config. Meant for pull requests, next to `pulumi
preview`, and for machines that have no Pulumi CLI.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from offline_runner.mock_program import DeclaredProgram, run_program
from offline_runner.stack_config import REPO_ROOT, StackConfigError, read_stack_config
from settings import SettingsError


def summarize(stack: str, program: DeclaredProgram) -> str:
    custom = Counter(r.type.split(":")[-1] for r in program.resources if r.custom)
    components = sum(1 for r in program.resources if not r.custom)
    parts = ", ".join(f"{count} {kind}" for kind, count in sorted(custom.items()))
    return f"stack {stack}: valid; would declare {sum(custom.values())} resources ({parts}) in {components} components"


def check_stack(stack: str, root: Path = REPO_ROOT) -> tuple[DeclaredProgram | None, list[str]]:
    """(what the program declares, or None; every problem of the stack, stack file and program alike)."""
    config = read_stack_config(stack, root)
    try:
        program = run_program(config.values, stack)
    except SettingsError as error:
        # A key the stack file could not give ran with its default: what the
        # program says of that default would only hide the real problem.
        unread = {problem.split(": ")[1] for problem in config.problems}
        return None, config.problems + [p for p in error.problems if p.split(": ")[0] not in unread]
    return (None if config.problems else program), config.problems


def declare_or_exit(stack: str, root: Path = REPO_ROOT) -> DeclaredProgram:
    """Run the program for ``stack``; on bad config print every problem and exit 1."""
    try:
        program, problems = check_stack(stack, root)
    except StackConfigError as error:
        program, problems = None, str(error).splitlines()
    if program is None:
        print(f"stack {stack}: invalid", file=sys.stderr)
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    return program


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="stack name: validates Pulumi.<stack>.yaml")
    parser.add_argument(
        "--root",
        type=Path,
        default=REPO_ROOT,
        help="folder with Pulumi.yaml and the stack file (default: this checkout)",
    )
    args = parser.parse_args(argv)
    print(summarize(args.stack, declare_or_exit(args.stack, args.root)))


if __name__ == "__main__":
    main()
