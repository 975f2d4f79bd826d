"""A small in-memory stand-in for the docker.APIClient calls the swarm applier makes (no Docker needed).

It keeps what Docker would return for the calls' effects that the applier's
modelled provider reads back: Docker's own defaults on a service spec
(RestartPolicy condition "any", Runtime "container"), the endpoint filled in
after allocation, running tasks per replica slot, and Swarm's UpdateStatus as
a test scripts it. Secrets as Docker keeps them: the data is never returned,
and a secret a service spec references cannot be removed.
"""

from __future__ import annotations

import base64
import copy
import itertools
from dataclasses import dataclass
from typing import Any

from docker.errors import APIError, NotFound


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass(frozen=True)
class FakeAnswer:
    """A successful response: the handler's result as its JSON."""

    body: Any

    def raise_for_status(self) -> None:
        pass

    def json(self) -> Any:
        return self.body


class FakeDocker:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.services_by_id: dict[str, dict[str, Any]] = {}
        self.networks_by_id: dict[str, dict[str, Any]] = {}
        self.configs_by_id: dict[str, dict[str, Any]] = {}
        self.secrets_by_id: dict[str, dict[str, Any]] = {}
        self.secret_data: dict[str, bytes] = {}  # what a task would read from /run/secrets/...
        self.calls: list[tuple[str, Any]] = []
        self.registry_auths: list[tuple[str, str | None]] = []  # (request path, X-Registry-Auth)
        self.digest: str | None = None  # what the registry answers; None: it does not answer
        self.platforms: list[dict[str, str]] = [{"architecture": "amd64", "os": "linux"}]
        # Scripted Swarm outcome of the next update per service name: "completed", "rollback", "paused"
        self.update_outcome: dict[str, str] = {}
        self.running: dict[str, bool] = {}  # service name -> tasks run (default True)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    # -- services -------------------------------------------------------------------

    # What swarm/api_request.py sends a whole ServiceSpec and the registry query through: docker-py's
    # public post and get, with X-Registry-Auth as the Go client sends it; routed to the handlers below,
    # whose Docker errors are raised as the request's.
    base_url = "http+docker://fake"
    api_version = "1.44"
    timeout = 60

    def post(self, url: str, json: Any, params: Any = None, headers: Any = None, timeout: Any = None) -> FakeAnswer:
        path = self._requested(url, headers)
        if path == "/services/create":
            return FakeAnswer(self.create_service(json))
        service_id = path.removeprefix("/services/").removesuffix("/update")
        return FakeAnswer(self.update_service(service_id, params["version"], json))

    def get(self, url: str, headers: Any = None, timeout: Any = None) -> FakeAnswer:
        path = self._requested(url, headers)
        return FakeAnswer(self.inspect_distribution(path.removeprefix("/distribution/").removesuffix("/json")))

    def _requested(self, url: str, headers: Any) -> str:
        path = url.removeprefix(f"{self.base_url}/v{self.api_version}")
        self.registry_auths.append((path, (headers or {}).get("X-Registry-Auth")))
        return path

    def create_service(self, declared: dict[str, Any]) -> dict[str, str]:
        spec = {
            "Name": declared["Name"],
            "Labels": declared.get("Labels") or {},
            "TaskTemplate": self._docker_defaults(declared["TaskTemplate"]),
            "Mode": declared.get("Mode") or {"Replicated": {"Replicas": 1}},
            "EndpointSpec": declared.get("EndpointSpec") or {},
        }
        for key in ("UpdateConfig", "RollbackConfig"):
            if declared.get(key) is not None:
                spec[key] = declared[key]
        id_ = self._id("svc")
        self.calls.append(("create_service", copy.deepcopy(spec)))
        self.services_by_id[id_] = {
            "ID": id_,
            "Version": {"Index": 1},
            "Spec": spec,
            "Endpoint": {"Spec": {}},
            "_reads": 0,
        }
        return {"ID": id_}

    @staticmethod
    def _docker_defaults(task: dict[str, Any]) -> dict[str, Any]:
        task = copy.deepcopy(task)
        if task.get("RestartPolicy") == {}:
            task["RestartPolicy"] = {"Condition": "any", "MaxAttempts": 0}
        task.setdefault("Runtime", "container")
        return task

    def inspect_service(self, id_or_name: str) -> dict[str, Any]:
        service = self._service(id_or_name)
        service["_reads"] += 1
        if service["_reads"] > 1:  # the allocator fills the endpoint after the first look
            es = service["Spec"].get("EndpointSpec") or {}
            service["Endpoint"] = {"Spec": {"Mode": es.get("Mode", "vip")}, "Ports": es.get("Ports", [])}
        out = {k: copy.deepcopy(v) for k, v in service.items() if not k.startswith("_")}
        return out

    def _service(self, id_or_name: str) -> dict[str, Any]:
        for s in self.services_by_id.values():
            if id_or_name in (s["ID"], s["Spec"]["Name"]):
                return s
        raise NotFound(f"service {id_or_name} not found")

    def services(self, filters: Any = None) -> list[dict[str, Any]]:
        return [{"ID": s["ID"], "Spec": copy.deepcopy(s["Spec"])} for s in self.services_by_id.values()]

    def update_service(self, service: str, version: int, declared: dict[str, Any]) -> dict[str, Any]:
        s = self._service(service)
        previous = copy.deepcopy(s["Spec"])
        name = declared["Name"]
        spec = {
            "Name": name,
            "Labels": declared.get("Labels") or {},
            "TaskTemplate": self._docker_defaults(declared["TaskTemplate"]),
            "Mode": declared.get("Mode"),
            "EndpointSpec": declared.get("EndpointSpec") or {},
        }
        for key in ("UpdateConfig", "RollbackConfig"):
            if declared.get(key) is not None:
                spec[key] = declared[key]
        self.calls.append(("update_service", copy.deepcopy(spec)))
        s["Spec"] = spec
        s["Version"]["Index"] += 1
        outcome = self.update_outcome.get(name, "completed")
        if outcome == "rollback":
            s["Spec"] = previous  # Swarm puts the previous spec back
            s["UpdateStatus"] = {"State": "rollback_completed", "Message": "rollback completed"}
        elif outcome == "paused":
            s["UpdateStatus"] = {
                "State": "paused",
                "Message": "update paused due to failure or early termination of task x",
            }
        else:
            s["UpdateStatus"] = {"State": "completed", "Message": "update completed"}
        return {"Warnings": None}

    def remove_service(self, id_: str) -> None:
        self.calls.append(("remove_service", id_))
        self.services_by_id.pop(self._service(id_)["ID"])

    def tasks(self, filters: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            s = self._service(filters["service"])
        except NotFound:
            return []
        name = s["Spec"]["Name"]
        state = "running" if self.running.get(name, True) else "starting"
        replicas = (s["Spec"].get("Mode") or {}).get("Replicated", {}).get("Replicas", 1)
        return [
            {
                "ID": f"{s['ID']}-task{slot}",
                "Slot": slot,
                "NodeID": "node1",
                "DesiredState": "running",
                "Status": {"State": state, "ContainerStatus": {"ContainerID": f"{s['ID']}-c{slot}"}},
                "Spec": {"ContainerSpec": {"Image": s["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]}},
            }
            for slot in range(1, replicas + 1)
        ]

    def inspect_task(self, task_id: str) -> dict[str, Any]:
        return {"ID": task_id, "Status": {"State": "running", "ContainerStatus": {"ContainerID": task_id + "-c"}}}

    def nodes(self) -> list[dict[str, Any]]:
        return [{"ID": "node1", "Status": {"State": "ready"}}]

    def wait(self, container: str, timeout: Any = None, condition: Any = None) -> dict[str, Any]:
        self.calls.append(("wait", container))
        return {"StatusCode": 0}

    def remove_container(self, container: str, v: bool = False, force: bool = False) -> None:
        raise APIError(f"No such container: {container}")

    def inspect_distribution(self, image: str) -> dict[str, Any]:
        self.calls.append(("inspect_distribution", image))
        if self.digest is None:
            raise APIError("500 Server Error: lookup registry-1.docker.io: no such host")
        return {"Descriptor": {"digest": self.digest}, "Platforms": self.platforms}

    # -- networks and configs -----------------------------------------------------------

    def create_network(
        self,
        name: str,
        driver: Any = None,
        options: Any = None,
        ipam: Any = None,
        internal: bool = False,
        labels: Any = None,
        attachable: Any = None,
        **_: Any,
    ) -> dict[str, str]:
        id_ = self._id("net")
        self.calls.append(("create_network", {"name": name, "driver": driver, "attachable": attachable, "ipam": ipam}))
        self.networks_by_id[id_] = {
            "Name": name,
            "Id": id_,
            "Scope": "swarm",
            "Driver": driver or "overlay",
            "EnableIPv6": False,
            "IPAM": {
                "Driver": (ipam or {}).get("Driver") or "default",
                "Options": None,
                # Docker keeps a requested subnet and gateway; without one it picks both.
                "Config": [
                    {"Subnet": c["Subnet"], "Gateway": c.get("Gateway") or c["Subnet"].rsplit(".", 1)[0] + ".1"}
                    for c in (ipam or {}).get("Config") or []
                ]
                or [{"Subnet": "10.0.9.0/24", "Gateway": "10.0.9.1"}],
            },
            "Internal": internal,
            "Attachable": bool(attachable),
            "Ingress": False,
            "Options": {"com.docker.network.driver.overlay.vxlanid_list": "4097"},
            "Labels": labels or {},
        }
        return {"Id": id_}

    def inspect_network(self, id_: str) -> dict[str, Any]:
        if id_ not in self.networks_by_id:
            raise NotFound(f"network {id_} not found")
        return copy.deepcopy(self.networks_by_id[id_])

    def remove_network(self, id_: str) -> None:
        self.calls.append(("remove_network", id_))
        self.networks_by_id.pop(id_)

    def create_config(self, name: str, data: bytes, labels: Any = None) -> dict[str, str]:
        id_ = self._id("cfg")
        self.configs_by_id[id_] = {
            "ID": id_,
            "Spec": {"Name": name, "Data": base64.b64encode(data).decode(), "Labels": labels or {}},
        }
        return {"ID": id_}

    def inspect_config(self, id_: str) -> dict[str, Any]:
        if id_ not in self.configs_by_id:
            raise NotFound(f"config {id_} not found")
        return copy.deepcopy(self.configs_by_id[id_])

    def remove_config(self, id_: str) -> None:
        self.calls.append(("remove_config", id_))
        self.configs_by_id.pop(id_)

    def create_secret(self, name: str, data: bytes, labels: Any = None, driver: Any = None) -> dict[str, str]:
        self.calls.append(("create_secret", {"name": name, "labels": labels}))
        # swarmkit manager/controlapi/secret.go validateSecretSpec (MaxSecretSize 500 KiB)
        if not 0 < len(data) < 500 * 1024:
            raise APIError(
                "400 Client Error: Bad Request",
                explanation="rpc error: code = InvalidArgument desc = secret data must be larger than 0 and less"
                " than 512000 bytes",
            )
        if not data.strip():
            raise APIError(
                "400 Client Error: Bad Request",
                explanation="rpc error: code = InvalidArgument desc = secret data must contain non white space bytes",
            )
        id_ = self._id("sec")
        self.secrets_by_id[id_] = {"ID": id_, "Version": {"Index": 1}, "Spec": {"Name": name, "Labels": labels or {}}}
        self.secret_data[id_] = data
        return {"ID": id_}

    def inspect_secret(self, id_: str) -> dict[str, Any]:
        # SecretInspect never returns Spec.Data.
        if id_ not in self.secrets_by_id:
            raise NotFound(f"secret {id_} not found")
        return copy.deepcopy(self.secrets_by_id[id_])

    def remove_secret(self, id_: str) -> None:
        self.calls.append(("remove_secret", id_))
        if id_ not in self.secrets_by_id:
            raise NotFound(f"secret {id_} not found")
        users = [
            s["Spec"]["Name"]
            for s in self.services_by_id.values()
            if any(ref["SecretID"] == id_ for ref in s["Spec"]["TaskTemplate"]["ContainerSpec"].get("Secrets") or [])
        ]
        if users:
            # swarmkit manager/controlapi/secret.go RemoveSecret: codes.InvalidArgument -> 400
            name = self.secrets_by_id[id_]["Spec"]["Name"]
            plural = "s" if len(users) > 1 else ""
            raise APIError(
                "400 Client Error: Bad Request",
                explanation=f"rpc error: code = InvalidArgument desc = secret '{name}' is in use by the following"
                f" service{plural}: {', '.join(users)}",
            )
        self.secrets_by_id.pop(id_)
        self.secret_data.pop(id_)
