"""`make validate STACK=name`: run the whole program for a stack without an engine.

Exits 0 with a one-line summary of what the stack would declare, then the
notes the preview shows next to each service (each rollout: its steps, time,
and the CPU and memory it reserves beyond the steady state), or 1 with every
problem in the stack config. Meant for pull requests, next to `pulumi
preview`, and for machines that have no Pulumi CLI.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from offline_runner.mock_program import DeclaredProgram, run_program
from offline_runner.stack_config import REPO_ROOT, StackConfig, StackConfigError, read_stack_config
from swarm_zero_downtime.settings import SettingsError


def summarize(stack: str, program: DeclaredProgram) -> str:
    custom = Counter(r.type.split(":")[-1] for r in program.resources if r.custom)
    components = sum(1 for r in program.resources if not r.custom)
    parts = ", ".join(f"{count} {kind}" for kind, count in sorted(custom.items()))
    return f"stack {stack}: valid; would declare {sum(custom.values())} resources ({parts}) in {components} components"


# An encrypted TLS key is given the program as a throw-away self-signed pair
# (a certificate for stand-in.invalid and its key, public, in stand_in_tls/), so
# the program declares what it would with TLS on; any other encrypted key runs
# with its default.
STAND_INS = {path.stem: path.read_text() for path in (Path(__file__).parent / "stand_in_tls").glob("*.pem")}


def check_stack(stack: str, root: Path = REPO_ROOT) -> tuple[DeclaredProgram | None, list[str]]:
    """(what the program declares, or None; every problem of the stack, stack file and program alike)."""
    return check_config(stack, read_stack_config(stack, root))


def check_config(stack: str, config: StackConfig) -> tuple[DeclaredProgram | None, list[str]]:
    """``check_stack`` for a stack file already read. Encrypted keys are known to be
    set and secret, not their values: the checks of those values are left to `pulumi preview`."""
    values = dict(config.values)
    for key in config.secrets:
        short = key.split(":", 1)[1]
        if short in STAND_INS:
            values[key] = STAND_INS[short]
    try:
        program = run_program(values, stack, secret_keys=config.secrets)
    except SettingsError as error:
        # A key the stack file could not give, or gave encrypted, ran with its
        # default or a stand-in: what the program says of that value would
        # only hide the real problem.
        unread = {problem.split(": ")[1] for problem in config.problems} | set(config.secrets)
        return None, config.problems + [p for p in error.problems if p.split(": ")[0] not in unread]
    return (None if config.problems else program), config.problems


class _PreviewNotes(logging.Handler):
    """What the program logs: under the mock runtime its info notes and warnings go to the root logger."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.notes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            # As Python prints them with no handler: the program's warnings stay on stderr.
            print(record.getMessage(), file=sys.stderr)
        else:
            self.notes.append(record.getMessage())


@contextmanager
def preview_notes() -> Iterator[list[str]]:
    """The info notes the program logs while it runs, as `pulumi preview` shows them."""
    root = logging.getLogger()
    handler, level = _PreviewNotes(), root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler.notes
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def declare_or_exit(stack: str, root: Path = REPO_ROOT) -> DeclaredProgram:
    """Run the program for ``stack``; on bad config print every problem and exit 1.

    Encrypted keys are named on stderr as not checked."""
    try:
        config = read_stack_config(stack, root)
        for key in config.secrets:
            print(f"{key}: secret, not checked here (`pulumi preview` decrypts and checks it)", file=sys.stderr)
        program, problems = check_config(stack, config)
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
    with preview_notes() as notes:
        program = declare_or_exit(args.stack, args.root)
    print(summarize(args.stack, program))
    print("".join(f"  {note}\n" for note in notes), end="")


if __name__ == "__main__":
    main()
