"""The program's nginx config in front of loopback backends, with real traffic.

    site = LoopbackSite(install).start()
    site.url                     # http://127.0.0.1:PORT/ -> nginx -> app-real-N / app-backup-N
    site.apps["app-real-1"]      # tests.support.testapp_process.AppProcess on 127.0.0.2:P
    site.dns                     # tests.support.dns_stub.DnsStub nginx's resolver asks
    site.close()

Layout (the template has one port per pool, so every backend uses the same port P
on its own loopback address, and the pools differ by name, as in a swarm):

    tasks.webapp-real   -> 127.0.0.2 (app-real-1), 127.0.0.3 (app-real-2)
    tasks.webapp-backup -> 127.0.0.4 (app-backup-1), 127.0.0.5 (app-backup-2)

127.0.0.6 and up are free for tasks that come back on new addresses.
"""

from __future__ import annotations

import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Self

import requests

from swarm_zero_downtime.nginx.l7_tier import L7TierConfigArgs
from swarm_zero_downtime.swarm.naming import TASK_PATTERN, role_of_hostname
from tests.support.dns_stub import DnsStub
from tests.support.nginx_chroot import NginxInstall, NginxSandbox
from tests.support.nginx_configs import LoopbackPlaces, loopback_config
from tests.support.testapp_process import AppProcess, free_ports

REAL_ADDRESSES = ("127.0.0.2", "127.0.0.3")
BACKUP_ADDRESSES = ("127.0.0.4", "127.0.0.5")
SPARE_ADDRESSES = ("127.0.0.6", "127.0.0.7")
# Group 1 is the backend's label, so the probe counts answers per backend.
BACKEND_PATTERN = TASK_PATTERN


def pool_of_label(label: str) -> str:
    return role_of_hostname(label) or label


class Blackhole:
    """A listener whose accept queue is full, so the kernel drops new SYNs: a connect
    to it neither succeeds nor is refused, like a connect to a task that vanished
    with its address (the case `proxy_connect_timeout` bounds)."""

    def __init__(self, host: str, port: int) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, port))
        self.listener.listen(0)  # room for one queued connection
        self.fillers: list[socket.socket] = []
        filler = socket.create_connection((host, port), timeout=2)
        self.fillers.append(filler)
        probe = socket.socket()
        probe.settimeout(0.3)
        try:
            probe.connect((host, port))
            raise RuntimeError(f"{host}:{port} still accepts connections; cannot make it a black hole")
        except TimeoutError:
            pass
        finally:
            probe.close()

    def close(self) -> None:
        for sock in self.fillers:
            sock.close()
        self.listener.close()


@dataclass
class Tally:
    """One scenario's counts, for assertions and the printed report."""

    scenario: str
    sent: int
    failed: int
    failures_by_kind: dict[str, int]
    by_pool: dict[str, int]
    by_backend: dict[str, int]
    notes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, scenario: str, result: Any, **notes: Any) -> Tally:
        by_backend = dict(sorted(result.by_pool.items()))
        pools: Counter[str] = Counter()
        for label, count in by_backend.items():
            pools[pool_of_label(label)] += count
        return cls(
            scenario,
            result.sent,
            result.failed,
            dict(result.failures_by_kind),
            dict(sorted(pools.items())),
            by_backend,
            dict(notes),
        )

    def line(self) -> str:
        failures = ", ".join(f"{k}: {v}" for k, v in self.failures_by_kind.items()) or "none"
        backends = ", ".join(f"{k}={v}" for k, v in self.by_backend.items()) or "none"
        notes = "".join(f"; {k}={_fmt(v)}" for k, v in self.notes.items())
        return (
            f"{self.scenario}: sent={self.sent} failed={self.failed} ({failures}) "
            f"real={self.by_pool.get('real', 0)} backup={self.by_pool.get('backup', 0)} "
            f"[{backends}]{notes}"
        )


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


class LoopbackSite:
    """DNS stub + four testapp backends + the program's nginx config on a real nginx."""

    def __init__(
        self,
        install: NginxInstall,
        stack: str = "dev",
        overrides: dict[str, Any] | None = None,
        secrets: dict[str, str] | None = None,
        trusted_proxies: str | None = None,
        loaded_pair: dict[str, str] | None = None,
    ) -> None:
        """``loaded_pair``: the certificate and key nginx loads instead of ``secrets``'s, which the config is
        rendered with: for a pair validation refuses, to show what nginx does with it."""
        self.install = install
        self.stack = stack
        self.overrides = dict(overrides or {})
        self.secrets = dict(secrets or {})
        self.loaded_pair = dict(loaded_pair or self.secrets)
        self.trusted_proxies = trusted_proxies
        # Free on every address, so on each backend's own loopback address too.
        self.port, self._listen_port, self._health_port, self._https_port = free_ports(4)
        self.dns = DnsStub()
        self.apps: dict[str, AppProcess] = {}
        self.nginx = NginxSandbox(install)
        self._args: L7TierConfigArgs | None = None
        self.config = ""
        self.blackholes: list[Blackhole] = []

    @property
    def args(self) -> L7TierConfigArgs:
        """The template's args of the running config (set by start())."""
        assert self._args is not None, "site not started"
        return self._args

    @property
    def real_name(self) -> str:
        return self.args.real.host

    @property
    def backup_name(self) -> str:
        assert self.args.backup is not None
        return self.args.backup.host

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.nginx.listen_port}"

    def start(self, resolvable: bool = True) -> LoopbackSite:
        """Start everything; with resolvable=False the DNS stub knows neither pool yet
        (NXDOMAIN), as before Swarm has any task of the app services."""
        try:
            self.dns.start()
            pem = self.nginx.host_dir / "tls.pem"
            if self.secrets:
                pair = self.loaded_pair
                pem.write_text(pair["tlsCertificate"].strip() + "\n" + pair["tlsKey"].strip() + "\n")
            places = LoopbackPlaces(
                resolver=self.dns.address,
                listen_port=self._listen_port,
                health_port=self._health_port,
                trusted_proxies=self.trusted_proxies,
                https_port=self._https_port,
                pem_path=f"{self.nginx.dir}/tls.pem",
            )
            # Only these places differ from what the program mounts (loopback_config
            # checks that line by line).
            self.config, self._args = loopback_config(
                self.stack, {"appPort": self.port, **self.overrides}, places, self.secrets or None
            )
            if resolvable:
                self.publish_pools()
            for i, address in enumerate(REAL_ADDRESSES, 1):
                self.add_app(f"app-real-{i}", address)
            if self.args.backup is not None:
                for i, address in enumerate(BACKUP_ADDRESSES, 1):
                    self.add_app(f"app-backup-{i}", address)
            self.nginx.write(self.config)
            checked = self.nginx.check()
            if not checked.ok:
                raise AssertionError(f"nginx -t rejected the loopback config:\n{checked.output}")
            self.nginx.start(self._listen_port, self.args.health_port)
            # With TLS on, plain HTTP only redirects: an edge in front waits over HTTPS.
            if resolvable and self.args.tls is None:
                self.wait_for_pool("real", timeout=10)
        except BaseException:
            self.close()
            raise
        return self

    def publish_pools(self) -> None:
        """DNS records for both pools' first addresses, as Swarm's DNS would have them."""
        self.dns.set(self.real_name, REAL_ADDRESSES)
        if self.args.backup is not None:
            self.dns.set(self.backup_name, BACKUP_ADDRESSES)

    def add_app(self, label: str, address: str) -> AppProcess:
        app = AppProcess(label, self.port, host=address)
        self.apps[label] = app
        return app.start()

    def pool(self, role: str) -> list[AppProcess]:
        return [app for label, app in self.apps.items() if pool_of_label(label) == role]

    def get(self, path: str = "/", timeout: float = 10.0, **kwargs: Any) -> requests.Response:
        """GET through nginx, for the stack's publicHost when it serves only that."""
        if self.args.server_name:
            kwargs["headers"] = {"Host": self.args.server_name, **kwargs.get("headers", {})}
        return requests.get(self.url + path, timeout=timeout, **kwargs)

    def wait_for_pool(self, role: str, timeout: float, label: str | None = None) -> float:
        """Poll through nginx until `role` (or the one backend `label`) answers; seconds waited."""
        started = time.monotonic()
        deadline = started + timeout
        last = "nothing"
        while time.monotonic() < deadline:
            try:
                response = self.get("/", timeout=2)
                answered = response.headers.get("X-App-Name", f"HTTP {response.status_code}")
                if (label is not None and answered == label) or (label is None and pool_of_label(answered) == role):
                    return time.monotonic() - started
                last = answered
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.05)
        raise AssertionError(
            f"{label or role} did not answer through nginx within {timeout}s (last answer: {last})\n"
            f"nginx error log tail:\n{self.nginx.error_log()[-2000:]}"
        )

    def blackhole(self, address: str) -> Blackhole:
        hole = Blackhole(address, self.port)
        self.blackholes.append(hole)
        return hole

    def close(self) -> None:
        self.nginx.close()
        for hole in self.blackholes:
            hole.close()
        for app in self.apps.values():
            app.close()
        self.dns.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
