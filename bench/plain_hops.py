"""The floor under the tier-cost figures: two nginx hops with nothing in their configs but the
proxying (`proxy_pass`, HTTP/1.1, kept connections), the first spreading requests over the
same real tasks the L7 tier does, on the same overlay. What they add is what any two nginx hops
in front of the pool cost on this machine; what the edge and the L7 tier add on top of that is
their configs' cost.

Plain containers on the app network (attachable), from the image the tiers run; removed by
their label, also what an interrupted run left behind.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, NotFound

from bench.setups import NGINX_IMAGE, PREFIX, TIMEOUT_S

LABEL = "szd.bench-plain-hop"
PORT = 80
NAMES = (f"{PREFIX}-plain-1", f"{PREFIX}-plain-2")  # the first in front of the real tasks, the second in front of it


def plain_config(upstreams: list[str]) -> str:
    """A whole nginx.conf: every request on to one of ``upstreams`` (address:port, in turn), over kept connections."""
    servers = "".join(f"        server {upstream};\n" for upstream in upstreams)
    return f"""\
worker_processes auto;
error_log stderr;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    upstream next {{
{servers}        keepalive 32;
    }}
    server {{
        listen {PORT};
        location / {{
            proxy_pass http://next;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


class PlainHops:
    """Starts the two hops: load generator -> second -> first -> the real tasks."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self._configs: Path | None = None

    def start(self, network: dict[str, Any], tasks: list[str]) -> str:
        """The URL of the second hop, on ``network`` (the applier's record of the app network)."""
        self._configs = Path(tempfile.mkdtemp(prefix=f"{PREFIX}-plain-"))
        upstreams = tasks
        for name in NAMES:
            upstreams = [f"{self._run(name, network, plain_config(upstreams))}:{PORT}"]
        return f"http://{upstreams[0]}/"

    def remove(self) -> None:
        remove_plain_hops(self.client)
        if self._configs is not None:
            shutil.rmtree(self._configs, ignore_errors=True)
            self._configs = None

    def _run(self, name: str, network: dict[str, Any], config: str) -> str:
        assert self._configs is not None, "start() makes the folder"
        path = self._configs / f"{name}.conf"
        path.write_text(config)
        path.chmod(0o644)
        container = self.client.containers.run(
            NGINX_IMAGE,
            name=name,
            detach=True,
            network=network["Name"],
            volumes={str(path): {"bind": "/etc/nginx/nginx.conf", "mode": "ro"}},
            labels={LABEL: PREFIX},
        )
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            container.reload()
            if container.status != "running":
                raise RuntimeError(f"{name}: {container.status}: {container.logs().decode(errors='replace')[-2000:]}")
            address = container.attrs["NetworkSettings"]["Networks"].get(network["Name"], {}).get("IPAddress")
            if address:
                return str(address)
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: no address on {network['Name']} after {TIMEOUT_S:g}s")
            time.sleep(0.25)


def remove_plain_hops(client: docker.DockerClient) -> None:
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}={PREFIX}"}):
        with contextlib.suppress(NotFound, APIError):
            container.remove(force=True)
