"""A PATH to run the edge container's command (nginx/edge_start_gate.py) in a real POSIX shell
on the host, with getent and nginx stood in for and only the shell's own tools besides:

    env = stand_in_env(tmp_path, answers=[0, 2], nginx=NGINX_ECHO, shell=ASH)
    subprocess.run(ASH.runs(start_gate_command(NAME)), env=env, ...)

getent's n-th call prints answers[n] addresses of NAME (the last one from then
on) and counts its calls in tmp_path/calls; answers=None: no getent at all.

The command is `/bin/sh -c ...`, and /bin/sh is whatever the user's edgeImage
has: dash in Debian's nginx images, BusyBox's ash in `nginx:*-alpine` (the
default edgeImage), whose date, sleep, wc and the rest are BusyBox applets too.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

NAME = "tasks.webapp-nginx"
# Runs the command with SIGINT and SIGQUIT handled by default, as a container's
# first process starts. A shell cannot trap a signal it was started with
# ignored, and a test run started as a background job of a shell without job
# control (`nohup make test &`, some CI runners) passes both on ignored.
DEFAULT_SIGNALS = ("/usr/bin/env", "--default-signal=INT,QUIT")
# An nginx that says how it was called and exits.
NGINX_ECHO = '#!/bin/sh\necho "nginx $*"\n'
# What the command runs besides the stand-ins: the gate's tools and the drain's rm.
SHELL_TOOLS = ("date", "sleep", "wc", "tr", "sed", "cat", "rm")


@dataclass(frozen=True)
class Shell:
    name: str
    path: str | None
    """The shell's binary on this machine; None: not installed."""
    multicall: bool = False
    """BusyBox: ``path sh`` is the shell, and its applets are the shell's tools."""

    def runs(self, command: list[str]) -> list[str]:
        """``command`` (``/bin/sh -c ...``, as the edge runs it) with this shell as /bin/sh."""
        assert command[0] == "/bin/sh", command
        assert self.path is not None, f"{self.name} is not installed"
        return [self.path, *(["sh"] if self.multicall else []), *command[1:]]

    def tool(self, name: str) -> str:
        assert self.path is not None, f"{self.name} is not installed"
        if self.multicall:
            return self.path
        return subprocess.check_output(["sh", "-c", f"command -v {name}"], text=True).strip()


DASH = Shell("dash", shutil.which("dash"))
ASH = Shell("busybox ash", shutil.which("busybox"), multicall=True)
SHELLS = (DASH, ASH)
PROVISION_SHELLS = "bash scripts/provision.sh test-tools"


def stand_in_env(
    tmp_path: Path, answers: list[int] | None, nginx: str = NGINX_ECHO, shell: Shell = DASH
) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nginx").write_text(nginx)
    if answers is not None:
        counts = " ".join(str(n) for n in answers)
        (bin_dir / "getent").write_text(
            f"""#!/bin/sh
[ "$1 $2" = "hosts {NAME}" ] || exit 2
calls=$(cat {tmp_path}/calls 2>/dev/null || echo 0); echo $((calls + 1)) > {tmp_path}/calls
n=$(echo {counts} | tr ' ' '\\n' | sed -n "$((calls + 1))p"); n=${{n:-{answers[-1]}}}
i=0; while [ $i -lt $n ]; do echo "10.0.0.$i {NAME}"; i=$((i + 1)); done
"""
        )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in SHELL_TOOLS:
        (tools / name).symlink_to(shell.tool(name))
    return {"PATH": f"{bin_dir}:{tools}"}
