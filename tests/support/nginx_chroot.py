"""Run the real nginx (>= 1.27.4) of the provisioned Debian sid rootfs through chroot.

`scripts/provision.sh rootfs` builds the rootfs; `provision.sh nginx-bin` prints the
command prefix (``chroot ROOTFS nginx``). The generated config is a conf.d snippet
(http context), so each sandbox wraps it in a small nginx.conf of its own, in a
temp folder inside the rootfs (paths in the config are chroot paths):

    install, why = find_nginx()
    with NginxSandbox(install) as nginx:
        nginx.write(site_config_text)
        nginx.check()                  # `nginx -t`, in an empty network namespace
        nginx.start(listen_port, health_port)  # `nginx -g 'daemon off;'` on the host's network
        nginx.access_log()             # parsed lines of the template's upstream_log

The template logs to /var/log/nginx/access.log (a chroot path shared by every run).
`start()` runs nginx in a private mount namespace with the sandbox's own folder
bind-mounted there, so each run reads only its own lines and leaves nothing behind;
the config itself is not changed for that.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from swarm_zero_downtime.nginx.l7_tier import HEALTH_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]
PROVISION = REPO_ROOT / "scripts" / "provision.sh"
MIN_NGINX = (1, 27, 4)  # `resolve` on upstream servers (1.27.3), keepalive_min_timeout (1.27.4)
HOW_TO_PROVISION = "make test-nginx (runs `bash scripts/provision.sh rootfs`; needs root)"

# Debian's /etc/nginx/nginx.conf, which tests/fixtures/images/nginx runs with the generated file in
# conf.d, minus what does not matter here (gzip, the modules-enabled and
# sites-enabled includes), with pid and error_log moved into the sandbox. What it
# sets at http level stays: the generated file must not set it a second time.
NGINX_CONF = """\
# Test wrapper for the generated conf.d snippet: Debian's nginx.conf (what
# tests/fixtures/images/nginx runs) reduced to what matters, pid and error log in this folder.
user www-data;
worker_processes {workers};
pid {dir}/nginx.pid;
error_log {dir}/error.log info;

events {{
    worker_connections 768;
}}

http {{
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers off;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {dir}/http-access.log;

    include {dir}/site.conf;
}}
"""

ACCESS_LINE = re.compile(
    r'^(?P<remote>\S+) \[(?P<time>[^\]]+)\] "(?P<request>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+) '
    r"upstream=(?P<upstream>.*) upstream_status=(?P<upstream_status>.*) request_time=(?P<request_time>[\d.]+)$"
)


@dataclass(frozen=True)
class NginxInstall:
    rootfs: Path
    prefix: tuple[str, ...]  # e.g. ("chroot", "/repo/.cache/rootfs", "nginx")
    version: str


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    output: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class AccessLine:
    """One line of the template's `upstream_log` format."""

    remote: str
    request: str
    status: int
    upstreams: tuple[str, ...]  # every upstream address tried, in order ("-" when none)
    upstream_statuses: tuple[str, ...]
    request_time: float

    @property
    def method(self) -> str:
        return self.request.split(" ", 1)[0]

    @property
    def path(self) -> str:
        parts = self.request.split(" ")
        return parts[1] if len(parts) > 1 else ""


def run_in_rootfs(install: NginxInstall, command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """``command`` run by the rootfs's shell, as Docker runs a CMD-SHELL health check in an nginx image
    (Debian's, with curl), on the host's network."""
    return subprocess.run(
        ["chroot", str(install.rootfs), "/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def find_nginx(timeout: float = 60.0) -> tuple[NginxInstall | None, str]:
    """The provisioned rootfs nginx, or (None, why not). Never builds the rootfs."""
    if os.geteuid() != 0:
        return None, "root is needed to chroot into the rootfs"
    for tool in ("unshare", "setpriv"):
        if shutil.which(tool) is None:
            return None, f"{tool} (util-linux) is needed to isolate nginx -t and the running nginx"
    cache = Path(os.environ.get("PROVISION_CACHE") or REPO_ROOT / ".cache")
    rootfs = cache / "rootfs"
    if not (rootfs / "usr/sbin/nginx").is_file():
        return None, f"no nginx in {rootfs}"
    # provision.sh nginx-bin checks the version and prints the prefix; with the rootfs
    # in place it builds nothing.
    run = subprocess.run(
        ["bash", str(PROVISION), "nginx-bin"], capture_output=True, text=True, timeout=timeout, check=False
    )
    if run.returncode != 0:
        return None, f"`provision.sh nginx-bin` failed: {run.stderr.strip()[-500:]}"
    prefix = tuple(shlex.split(run.stdout.strip()))
    if not prefix:
        return None, "`provision.sh nginx-bin` printed nothing"
    version_run = subprocess.run([*prefix, "-v"], capture_output=True, text=True, timeout=timeout, check=False)
    match = re.search(r"nginx/(\d+(?:\.\d+)+)", version_run.stderr + version_run.stdout)
    if version_run.returncode != 0 or not match:
        return None, f"`{' '.join(prefix)} -v` failed: {version_run.stderr.strip()}"
    version = match[1]
    if _version_tuple(version) < MIN_NGINX:
        return None, f"rootfs nginx is {version}; need >= {'.'.join(map(str, MIN_NGINX))}"
    return NginxInstall(rootfs=rootfs.resolve(), prefix=prefix, version=version), ""


class NginxSandbox:
    """One nginx config and (optionally) one running nginx, in a temp folder inside the rootfs."""

    def __init__(self, install: NginxInstall, workers: int | str = "auto") -> None:
        self.install = install
        self.workers = workers
        tmp = install.rootfs / "tmp"
        self.host_dir = Path(tempfile.mkdtemp(prefix="szd-nginx-test-", dir=tmp))
        self.host_dir.chmod(0o755)
        self.dir = "/" + str(self.host_dir.relative_to(install.rootfs))  # the same folder, seen from the chroot
        self.log_dir = self.host_dir / "log"  # mounted on the chroot's /var/log/nginx while running
        self.log_dir.mkdir()
        self.proc: subprocess.Popen[bytes] | None = None
        self.listen_port: int | None = None
        self.health_port: int | None = None

    # --- files -------------------------------------------------------------------

    @property
    def conf(self) -> str:
        return f"{self.dir}/nginx.conf"

    @property
    def site_path(self) -> Path:
        """The generated snippet, as a host path (for gixy)."""
        return self.host_dir / "site.conf"

    def write(self, site_config: str) -> None:
        self.site_path.write_text(site_config)
        (self.host_dir / "nginx.conf").write_text(NGINX_CONF.format(dir=self.dir, workers=self.workers))

    def write_main(self, config: str) -> None:
        """A whole nginx.conf (the edge's), used as it is."""
        self.site_path.write_text(config)
        (self.host_dir / "nginx.conf").write_text(config)

    def error_log(self) -> str:
        path = self.host_dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def access_log(self) -> list[AccessLine]:
        path = self.log_dir / "access.log"
        if not path.exists():
            return []
        lines = []
        for raw in path.read_text(errors="replace").splitlines():
            match = ACCESS_LINE.match(raw)
            if match is None:
                raise AssertionError(f"access log line not in the template's upstream_log format: {raw!r}")
            lines.append(
                AccessLine(
                    remote=match["remote"],
                    request=match["request"],
                    status=int(match["status"]),
                    upstreams=tuple(_split_upstream_list(match["upstream"])),
                    upstream_statuses=tuple(_split_upstream_list(match["upstream_status"])),
                    request_time=float(match["request_time"]),
                )
            )
        return lines

    def access_log_when(self, ready: Callable[[list[AccessLine]], bool], timeout: float = 5.0) -> list[AccessLine]:
        """The access log once ``ready`` holds for it. nginx writes a request's line
        when it frees the request, which can be after the client has the whole
        answer (a lingering close after a refused body, a closing connection)."""
        deadline = time.monotonic() + timeout
        while not ready(lines := self.access_log()):
            if time.monotonic() > deadline:
                raise AssertionError(f"the access log did not get there within {timeout}s: {lines}")
            time.sleep(0.02)
        return lines

    # --- nginx -t ----------------------------------------------------------------

    def check(self, timeout: float = 30.0) -> CheckResult:
        """`nginx -t` in a new, empty network namespace: nothing the config names can
        resolve or be reached there, so an accepted config needs no DNS at start."""
        command = ("unshare", "--net", *self.install.prefix, "-t", "-c", self.conf)
        run = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        return CheckResult(run.returncode == 0, (run.stdout + run.stderr).strip(), command)

    # --- running -----------------------------------------------------------------

    def start(self, listen_port: int, health_port: int, timeout: float = 10.0) -> None:
        """Run nginx in the foreground (master = our child) and wait until its health check answers."""
        if self.proc is not None:
            raise RuntimeError("nginx already started")
        self.listen_port = listen_port
        self.health_port = health_port
        # setpriv: SIGTERM (nginx's fast shutdown, workers included) if this test
        # process dies, so a killed run leaves no nginx holding a port; the setting
        # survives the exec chain setpriv -> unshare -> sh -> chroot -> nginx.
        # The mount namespace only holds the bind mount of our log folder over the
        # chroot's /var/log/nginx; the network is the host's (loopback backends).
        command = [
            "setpriv", "--pdeathsig", "TERM",
            "unshare", "--mount", "--propagation", "private",
            "sh", "-c", 'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh",
            str(self.log_dir), str(self.install.rootfs / "var/log/nginx"),
            *self.install.prefix, "-c", self.conf, "-g", "daemon off;",
        ]  # fmt: skip
        with open(self.host_dir / "stderr.log", "ab") as output:
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode} at start:\n{self.startup_output()}")
            if self._serves():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(
                    f"nginx did not serve on port {listen_port} within {timeout}s:\n{self.startup_output()}"
                )
            time.sleep(0.02)

    def startup_output(self) -> str:
        path = self.host_dir / "stderr.log"
        out = path.read_text(errors="replace") if path.exists() else ""
        return (out + self.error_log())[-4000:]

    def _serves(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}{HEALTH_PATH}", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # nginx answered
        except OSError:
            return False

    @property
    def master_pid(self) -> int:
        assert self.proc is not None, "nginx not started"
        return self.proc.pid

    def worker_pids(self) -> set[int]:
        """Children of the master: a reload would replace them all."""
        pids = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Field 4 (ppid) follows the ")" that ends the command name.
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.master_pid:
                pids.add(int(entry.name))
        return pids

    def stop(self, timeout: float = 10.0) -> None:
        """Fast shutdown (SIGTERM); SIGKILL to the master and its workers if that hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        workers = self.worker_pids()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(5)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.host_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _split_upstream_list(value: str) -> list[str]:
    # $upstream_addr / $upstream_status: ", " between tries, " : " between internal redirects.
    return [part for part in re.split(r",\s*|\s+:\s+", value.strip()) if part]
