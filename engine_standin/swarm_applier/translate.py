"""The check of every declared input, and the declared inputs' own Docker view: pure, no Docker client, no I/O.

Every key is read explicitly; whatever is left over, or has a value of the wrong
shape, raises ``UntranslatedInput``: ``SwarmApplier.apply`` runs ``translate``
on every declared pulumi-docker resource before it touches anything, so a
setting the program declares can never be dropped silently.

What is actually sent to Docker is built by ``provider_spec`` from the
provider's planned state (schema defaults, the provider's zero values, what
the last read-back stored), as pulumi-docker builds it; ``translate``'s spec is
the program's declared view of the same service, for tests and messages.

Secret values arrive as the mock runtime deserialises them: wrapped in
Pulumi's secret signature object (``{SIG_KEY: SECRET_SIG, "value": ...}``,
pulumi sdk/go/common/resource/sig/sig.go ``Key`` and ``Secret``; the Python
SDK's runtime/rpc.py ``wrap_rpc_secret``). pulumi-docker's generated SDK
wraps ``Secret.data`` in ``pulumi.Output.secret`` whatever the program
passes. ``reveal`` unwraps them; a secret or Sensitive value that does not
translate is reported without the value.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine_standin.swarm_applier.report import ApplyError
from offline_runner.mock_program import DeclaredResource, auto_name
from offline_runner.resource_types import NETWORK, SECRET, SERVICE, SERVICE_CONFIG


class UntranslatedInput(ApplyError):
    """An input key or value this applier does not know how to send to Docker."""


_MISSING = object()
Convert = Callable[[Any, str], Any]

SIG_KEY = "4dabf18193072939515e22adb298388d"  # pulumi sdk/go/common/resource/sig/sig.go Key
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # sig.Secret


def is_secret(value: Any) -> bool:
    """A value marked secret: the wire format's wrapper, or its sealed form in the applier's state."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def reveal(value: Any) -> Any:
    """``value`` with every secret wrapper replaced by the value it wraps (what the provider gets)."""
    if is_secret(value):
        if "value" not in value:
            raise ValueError("a secret sealed in the applier's state cannot be revealed")
        return reveal(value["value"])
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for v in value.values() for text in _leaves(v)]
    if isinstance(value, list):
        return [text for v in value for text in _leaves(v)]
    return [] if value is None else [str(value)]


def _hidden(convert: Convert, value: Any, path: str, what: str) -> Any:
    """``convert(value)``; its error is kept only if it shows none of the value (else just the path)."""
    try:
        return convert(value, path)
    except UntranslatedInput as error:
        if any(text in str(error) for text in _leaves(value)):
            raise UntranslatedInput(f"{path}: the {what} value does not translate (not shown)") from None
        raise


def _convert(convert: Convert, value: Any, path: str) -> Any:
    """Every input value goes through here: a secret is unwrapped, and never shown in an error."""
    if is_secret(value):
        return _hidden(convert, reveal(value), path, "secret")
    return convert(value, path)


def _sensitive(convert: Convert) -> Convert:
    """A Terraform Sensitive attribute: never shown in an error, secret-wrapped or not."""

    def convert_sensitive(value: Any, path: str) -> Any:
        return _hidden(convert, value, path, "sensitive")

    return convert_sensitive


class _Obj:
    """One input object: each key is read once, and ``done()`` rejects the rest."""

    def __init__(self, value: Any, path: str):
        if not isinstance(value, dict):
            raise UntranslatedInput(f"{path or '<inputs>'}: expected an object, got {value!r}")
        self.value, self.path = value, path
        self.read: set[str] = set()

    def get(self, key: str, convert: Convert, default: Any = _MISSING) -> Any:
        self.read.add(key)
        path = f"{self.path}.{key}" if self.path else key
        if self.value.get(key) is None:
            if default is _MISSING:
                raise UntranslatedInput(f"{path}: required input is missing")
            return default
        return _convert(convert, self.value[key], path)

    def done(self) -> None:
        unknown = sorted(set(self.value) - self.read)
        if unknown:
            where = f"{self.path}." if self.path else ""
            raise UntranslatedInput(
                f"input(s) the test applier does not translate: {', '.join(where + k for k in unknown)}"
            )


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise UntranslatedInput(f"{path}: expected a string, got {value!r}")
    return value


def _integer(value: Any, path: str) -> int:
    # The wire format carries numbers as floats.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise UntranslatedInput(f"{path}: expected a whole number, got {value!r}")
    return int(value)


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise UntranslatedInput(f"{path}: expected true or false, got {value!r}")
    return value


_GO_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_NANOS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def _duration(value: Any, path: str) -> int:
    """A Go duration ("1m30s", "500ms", "0") in nanoseconds, as the Docker API takes it."""
    text = _string(value, path)
    parts = _GO_DURATION_PART.findall(text)
    if text != "0" and (not parts or "".join(n + u for n, u in parts) != text):
        raise UntranslatedInput(f"{path}: not a Go duration: {value!r}")
    return round(sum(float(n) * _NANOS[u] for n, u in parts))


def _ratio(value: Any, path: str) -> float:
    try:
        return float(_string(value, path))
    except ValueError:
        raise UntranslatedInput(f"{path}: not a number: {value!r}") from None


def _base64(value: Any, path: str) -> bytes:
    try:
        return base64.b64decode(_string(value, path), validate=True)
    except binascii.Error:
        raise UntranslatedInput(f"{path}: not standard base64") from None


def _list(convert: Convert) -> Convert:
    def convert_list(value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise UntranslatedInput(f"{path}: expected a list, got {value!r}")
        return [_convert(convert, item, f"{path}[{i}]") for i, item in enumerate(value)]

    return convert_list


def _labels(value: Any, path: str) -> dict[str, str]:
    def label(item: Any, item_path: str) -> tuple[str, str]:
        r = _Obj(item, item_path)
        pair = (r.get("label", _string), r.get("value", _string))
        r.done()
        return pair

    return dict(_list(label)(value, path))


def _string_map(value: Any, path: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise UntranslatedInput(f"{path}: expected a map, got {value!r}")
    return {k: _convert(_string, v, f"{path}.{k}") for k, v in value.items()}


def _healthcheck(value: Any, path: str) -> dict[str, Any]:
    r = _Obj(value, path)
    spec = {
        "Test": r.get("tests", _list(_string)),
        "Interval": r.get("interval", _duration, 0),
        "Timeout": r.get("timeout", _duration, 0),
        "StartPeriod": r.get("startPeriod", _duration, 0),
        "Retries": r.get("retries", _integer, 0),
    }
    r.done()
    return spec


def _file_reference(kind: str) -> Convert:
    """A service's "configs" or "secrets" element (``kind`` "config" or "secret"): the id Required,
    the name optional; file_name Required, file_uid/file_gid default "0", file_mode 0o444
    (resource_docker_service.go; resource_docker_service_structures.go createContainerSpec sends them all)."""
    title = kind.capitalize()

    def convert(value: Any, path: str) -> dict[str, Any]:
        r = _Obj(value, path)
        spec = {
            f"{title}ID": r.get(f"{kind}Id", _string),
            f"{title}Name": r.get(f"{kind}Name", _string, ""),
            "File": {
                "Name": r.get("fileName", _string),
                "UID": r.get("fileUid", _string, "0"),
                "GID": r.get("fileGid", _string, "0"),
                "Mode": r.get("fileMode", _integer, 0o444),
            },
        }
        r.done()
        return spec

    return convert


_config_reference = _file_reference("config")
_secret_reference = _file_reference("secret")


def _container_spec(value: Any, path: str) -> dict[str, Any]:
    r = _Obj(value, path)
    spec = {
        "Image": r.get("image", _string),
        "Command": r.get("commands", _list(_string), None),
        "Args": r.get("args", _list(_string), None),
        "Hostname": r.get("hostname", _string, None),  # Go templates pass through verbatim
        "Env": r.get("env", _string_map, None),
        "Healthcheck": r.get("healthcheck", _healthcheck, None),
        "StopSignal": r.get("stopSignal", _string, None),  # sent as written ("SIGQUIT", "15"), no validation
        "StopGracePeriod": r.get("stopGracePeriod", _duration, None),
        "Secrets": r.get("secrets", _list(_secret_reference), None),
        "Configs": r.get("configs", _list(_config_reference), None),
        "Sysctls": r.get("sysctl", _string_map, None),
    }
    r.done()
    return {k: v for k, v in spec.items() if v is not None}


def _network_attachment(value: Any, path: str) -> dict[str, Any]:
    r = _Obj(value, path)
    spec = {
        "Target": r.get("id", _string),
        "Aliases": r.get("aliases", _list(_string), []),
        "DriverOpts": dict(o.split("=", 1) for o in r.get("driverOpts", _list(_string), [])),
    }
    r.done()
    return spec


def _placement(value: Any, path: str) -> dict[str, Any]:
    # resource_docker_service.go "placement": only the spread preferences are modelled here
    # (createPlacement: each string becomes a Spread.SpreadDescriptor as it is).
    r = _Obj(value, path)
    prefs = r.get("prefs", _list(_string), [])
    r.done()
    return {"Preferences": [{"Spread": {"SpreadDescriptor": p}} for p in prefs]}


def _amounts(value: Any, path: str) -> dict[str, int]:
    # "limits" and "reservation": nano_cpus and memory_bytes, Optional ints, an unset one sent as 0
    # (createResources). "generic_resources" is not modelled: left for done() to refuse.
    r = _Obj(value, path)
    spec = {"NanoCPUs": r.get("nanoCpus", _integer, 0), "MemoryBytes": r.get("memoryBytes", _integer, 0)}
    r.done()
    return spec


def _resources(value: Any, path: str) -> dict[str, Any]:
    # resource_docker_service_structures.go createResources: a block given is sent, however empty.
    r = _Obj(value, path)
    spec = {"Limits": r.get("limits", _amounts, None), "Reservations": r.get("reservation", _amounts, None)}
    r.done()
    return {k: v for k, v in spec.items() if v is not None}


def _restart_policy(value: Any, path: str) -> dict[str, Any]:
    # resource_docker_service_structures.go createRestartPolicy: a block given is sent with
    # every field, an unset one as its zero value; the condition checked against the schema's pattern.
    r = _Obj(value, path)
    condition = r.get("condition", _string, "")
    if condition not in ("", "none", "on-failure", "any"):
        raise UntranslatedInput(f"{path}.condition: not one of none, on-failure, any: {condition!r}")
    spec = {
        "Delay": r.get("delay", _duration, 0),
        "MaxAttempts": r.get("maxAttempts", _integer, 0),
        "Window": r.get("window", _duration, 0),
    }
    r.done()
    return {"Condition": condition, **spec} if condition else spec


def _task_spec(value: Any, path: str) -> dict[str, Any]:
    r = _Obj(value, path)
    spec = {
        "ContainerSpec": r.get("containerSpec", _container_spec),
        "Networks": r.get("networksAdvanceds", _list(_network_attachment), []),
    }
    if (placement := r.get("placement", _placement, None)) is not None:
        spec["Placement"] = placement
    if (resources := r.get("resources", _resources, None)) is not None:
        spec["Resources"] = resources
    if (restart := r.get("restartPolicy", _restart_policy, None)) is not None:
        spec["RestartPolicy"] = restart
    r.done()
    return spec


def _mode(value: Any, path: str) -> dict[str, Any]:
    r = _Obj(value, path)
    replicated = r.get("replicated", lambda v, p: _Obj(v, p), None)
    is_global = r.get("global", _boolean, False)
    r.done()
    if is_global:
        if replicated is not None:
            raise UntranslatedInput(f"{path}: replicated and global together")
        return {"Global": {}}
    replicas = replicated.get("replicas", _integer, 1) if replicated else 1
    if replicated:
        replicated.done()
    return {"Replicated": {"Replicas": replicas}}


def _rollout(value: Any, path: str) -> dict[str, Any]:
    """updateConfig / rollbackConfig, with the schema's defaults for what is unset."""
    r = _Obj(value, path)
    spec = {
        "Parallelism": r.get("parallelism", _integer, 1),
        "Delay": r.get("delay", _duration, 0),
        "FailureAction": r.get("failureAction", _string, "pause"),
        "Monitor": r.get("monitor", _duration, 5 * 10**9),
        "MaxFailureRatio": r.get("maxFailureRatio", _ratio, 0.0),
        "Order": r.get("order", _string, "stop-first"),
    }
    r.done()
    return spec


def _port(value: Any, path: str) -> dict[str, Any]:
    r = _Obj(value, path)
    spec = {
        "Name": r.get("name", _string, None),
        "Protocol": r.get("protocol", _string, "tcp"),
        "TargetPort": r.get("targetPort", _integer),
        "PublishedPort": r.get("publishedPort", _integer, None),
        "PublishMode": r.get("publishMode", _string, "ingress"),
    }
    r.done()
    return {k: v for k, v in spec.items() if v is not None}


def _endpoint_spec(value: Any, path: str) -> dict[str, Any]:
    r = _Obj(value, path)
    spec = {"Mode": r.get("mode", _string, None), "Ports": r.get("ports", _list(_port), None)}
    r.done()
    return {k: v for k, v in spec.items() if v is not None}


@dataclass(frozen=True)
class Converge:
    delay_s: float
    timeout_s: float


def _converge(value: Any, path: str) -> Converge:
    r = _Obj(value, path)
    converge = Converge(r.get("delay", _duration, 7 * 10**9) / 1e9, r.get("timeout", _duration, 180 * 10**9) / 1e9)
    r.done()
    return converge


@dataclass
class ServicePlan:
    """A service as the applier sends it; its labels are merged with the applier's state labels at apply time."""

    spec: dict[str, Any]  # ServiceSpec without Labels
    labels: dict[str, str]
    converge: Converge | None


def _service_plan(inputs: dict[str, Any], name: str) -> ServicePlan:
    r = _Obj(inputs, "")
    spec = {
        "Name": r.get("name", _string, name),
        "TaskTemplate": r.get("taskSpec", _task_spec),
        "Mode": r.get("mode", _mode, {"Replicated": {"Replicas": 1}}),
        "UpdateConfig": r.get("updateConfig", _rollout, None),
        "RollbackConfig": r.get("rollbackConfig", _rollout, None),
        "EndpointSpec": r.get("endpointSpec", _endpoint_spec, None),
    }
    labels = r.get("labels", _labels, {})
    converge = r.get("convergeConfig", _converge, None)
    r.done()
    return ServicePlan({k: v for k, v in spec.items() if v is not None}, labels, converge)


def _ipam_config(value: Any, path: str) -> dict[str, Any]:
    # resource_docker_network.go "ipam_config": subnet, ip_range, gateway, aux_address (all ForceNew).
    r = _Obj(value, path)
    config = {
        "Subnet": r.get("subnet", _string, ""),
        "IPRange": r.get("ipRange", _string, ""),
        "Gateway": r.get("gateway", _string, ""),
        "AuxiliaryAddresses": r.get("auxAddress", _string_map, {}),
    }
    r.done()
    return config


def _network_args(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    r = _Obj(inputs, "")
    args = {
        "name": r.get("name", _string, name),
        "driver": r.get("driver", _string, None),
        "attachable": r.get("attachable", _boolean, None),
        "internal": r.get("internal", _boolean, False),
        "options": r.get("options", _string_map, None),
        "labels": r.get("labels", _labels, {}),
        "ipam": r.get("ipamConfigs", _list(_ipam_config), []),
    }
    r.done()
    return args


def _config_args(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    r = _Obj(inputs, "")
    args = {"name": r.get("name", _string, name), "data": r.get("data", _base64)}
    r.done()
    return args


def _secret_args(inputs: dict[str, Any], name: str) -> dict[str, Any]:
    # resource_docker_secret.go: data Required, Sensitive, validateStringIsBase64Encoded (StdEncoding, though
    # its description says "Base64-url-safe-encoded"); labels Optional.
    r = _Obj(inputs, "")
    args = {
        "name": r.get("name", _string, name),
        "data": r.get("data", _sensitive(_base64)),
        "labels": r.get("labels", _labels, {}),
    }
    r.done()
    return args


_TRANSLATORS: dict[str, Callable[[dict[str, Any], str], Any]] = {
    NETWORK: _network_args,
    SERVICE: _service_plan,
    SERVICE_CONFIG: _config_args,
    SECRET: _secret_args,
}


def translate(resource: DeclaredResource) -> Any:
    """What Docker gets for one declared resource; raises UntranslatedInput."""
    if resource.type not in _TRANSLATORS:
        raise UntranslatedInput(f"{resource.name}: resource type {resource.type} is not supported by the test applier")
    try:
        return _TRANSLATORS[resource.type](resource.inputs, physical_name(resource))
    except UntranslatedInput as error:
        raise UntranslatedInput(f"{resource.type} {resource.name}: {error}") from None


def physical_name(resource: DeclaredResource) -> str:
    name = reveal(resource.inputs.get("name"))
    return name if isinstance(name, str) else auto_name(resource.name)


def changed_paths(old: Any, new: Any, path: str = "") -> list[str]:
    """Input paths that differ, e.g. taskSpec.containerSpec.image or ports[0].publishMode."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            out += changed_paths(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [p for i, (o, n) in enumerate(zip(old, new, strict=True)) for p in changed_paths(o, n, f"{path}[{i}]")]
    return [] if old == new else [path]
