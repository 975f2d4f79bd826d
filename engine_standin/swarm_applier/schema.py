"""The parts of pulumi-docker's Terraform schemas the applier models, in Pulumi's property names.

Source: kreuzwerker/terraform-provider-docker v4.5.0 (the ``upstream``
submodule of pulumi-docker v5.1.0 and of its main branch; pulumi-docker 5.0.0
had v4.2.0), internal/provider/:

- resource_docker_service.go ``resourceDockerService`` (docker_service ->
  ``docker:index/service:Service``)
- resource_docker_network.go ``resourceDockerNetwork`` (docker_network)
- resource_docker_config.go ``resourceDockerConfig`` (docker_config ->
  ``docker:index/serviceConfig:ServiceConfig``)
- resource_docker_secret.go ``resourceDockerSecret`` (docker_secret ->
  ``docker:index/secret:Secret``; pulumi-docker provider/resources.go maps
  it with no field overrides)
- helpers.go ``labelSchema`` (ForceNew label/value) and
  ``labelSchemaUpdatable`` (not ForceNew, the service's own ``labels``)

Property names are pulumi-docker's (provider/cmd/pulumi-resource-docker/
schema.json at v5.1.0): MaxItems=1 blocks become objects, list and set
attributes are pluralised (``networks_advanced`` -> ``networksAdvanceds``,
``test`` -> ``tests``, ``search`` -> ``searches``).

Each field keeps the flags the diff needs: Required/Optional/Computed, Default,
ForceNew, DiffSuppressFunc; and Sensitive, which the diff ignores but which
makes the bridge return the output as a Pulumi secret
(pulumi-terraform-bridge pkg/tfbridge/schema.go ``MakeTerraformOutput``:
``tfs.Sensitive()`` -> ``resource.MakeSecret``), kept out of the state in
plain text (``state``). Kinds: ``string``/``int``/``bool`` primitives,
``list``/``set``/``map`` of strings, ``block`` (a MaxItems=1 list: one object
or nothing), ``block_list`` and ``block_set`` (objects).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from offline_runner.resource_types import NETWORK, SECRET, SERVICE, SERVICE_CONFIG


@dataclass(frozen=True)
class Field:
    name: str  # Pulumi property name
    tf: str  # Terraform attribute name, for messages and citations
    kind: str
    fields: tuple[Field, ...] = ()  # the object's fields, for block kinds
    required: bool = False
    computed: bool = False
    default: Any = None
    force_new: bool = False
    sensitive: bool = False  # Sensitive: the output is a secret
    # DiffSuppressFunc(old, new) -> True when the two count as equal.
    suppress: Callable[[Any, Any], bool] | None = None


def _s(name: str, tf: str, **flags: Any) -> Field:
    return Field(name, tf, "string", **flags)


def _i(name: str, tf: str, **flags: Any) -> Field:
    return Field(name, tf, "int", **flags)


def _b(name: str, tf: str, **flags: Any) -> Field:
    return Field(name, tf, "bool", **flags)


def _block(name: str, tf: str, *fields: Field, **flags: Any) -> Field:
    return Field(name, tf, "block", tuple(fields), **flags)


def _block_set(name: str, tf: str, *fields: Field, **flags: Any) -> Field:
    return Field(name, tf, "block_set", tuple(fields), **flags)


def suppress_equivalent_float_ratio(old: Any, new: Any) -> bool:
    """validators.go ``suppressEquivalentFloatRatio``: both parse as floats and are equal ("0" = "0.0")."""
    try:
        return float(old) == float(new)
    except (TypeError, ValueError):
        return False


def _labels(name: str, tf: str, *, force_new: bool, **flags: Any) -> Field:
    # helpers.go newLabelSchema(forceNew): label and value, both Required.
    return _block_set(
        name,
        tf,
        _s("label", "label", required=True, force_new=force_new),
        _s("value", "value", required=True, force_new=force_new),
        **flags,
    )


def _rollout(name: str, tf: str) -> Field:
    # resource_docker_service.go "update_config" / "rollback_config": Optional, not Computed; defaults per field.
    return _block(
        name,
        tf,
        _i("parallelism", "parallelism", default=1),
        _s("delay", "delay", default="0s"),
        _s("failureAction", "failure_action", default="pause"),
        _s("monitor", "monitor", default="5s"),
        _s("maxFailureRatio", "max_failure_ratio", default="0.0", suppress=suppress_equivalent_float_ratio),
        _s("order", "order", default="stop-first"),
    )


CONTAINER_SPEC = _block(
    "containerSpec",
    "container_spec",
    _s("image", "image", required=True),
    _labels("labels", "labels", force_new=True),  # container labels use labelSchema (ForceNew)
    # "command" (Swarm's Command: the image's entrypoint) and "args" (its CMD): Optional lists;
    # "env": an Optional map.
    Field("commands", "command", "list"),
    Field("args", "args", "list"),
    _s("hostname", "hostname"),
    Field("env", "env", "map"),
    _s("stopSignal", "stop_signal"),  # Optional only: unset is "" (no signal), not the last read-back
    _s("stopGracePeriod", "stop_grace_period", computed=True),
    _block(
        "healthcheck",
        "healthcheck",
        Field("tests", "test", "list"),
        _s("interval", "interval", default="0s"),
        _s("timeout", "timeout", default="0s"),
        _s("startPeriod", "start_period", default="0s"),
        _i("retries", "retries", default=0),
        computed=True,
    ),
    _block_set(
        "hosts",
        "hosts",
        _s("host", "host", required=True, force_new=True),
        _s("ip", "ip", required=True, force_new=True),
        force_new=True,
    ),
    _block(
        "dnsConfig",
        "dns_config",
        Field("nameservers", "nameservers", "list", required=True),
        Field("searches", "search", "list"),
        Field("options", "options", "list"),
        computed=True,
    ),
    # "secrets" and "configs": Optional sets, no field ForceNew: a changed reference updates the service in place.
    _block_set(
        "secrets",
        "secrets",
        _s("secretId", "secret_id", required=True),
        _s("secretName", "secret_name"),
        _s("fileName", "file_name", required=True),
        _s("fileUid", "file_uid", default="0"),
        _s("fileGid", "file_gid", default="0"),
        _i("fileMode", "file_mode", default=0o444),
    ),
    _block_set(
        "configs",
        "configs",
        _s("configId", "config_id", required=True),
        _s("configName", "config_name"),
        _s("fileName", "file_name", required=True),
        _s("fileUid", "file_uid", default="0"),
        _s("fileGid", "file_gid", default="0"),
        _i("fileMode", "file_mode", default=0o444),
    ),
    _s("isolation", "isolation", default="default"),
    Field("sysctl", "sysctl", "map", force_new=True),
    _b("init", "init", computed=True),
    required=True,
)

TASK_SPEC = _block(
    "taskSpec",
    "task_spec",
    CONTAINER_SPEC,
    _block(
        "resources",
        "resources",
        _block("limits", "limits", _i("nanoCpus", "nano_cpus"), _i("memoryBytes", "memory_bytes")),
        _block("reservation", "reservation", _i("nanoCpus", "nano_cpus"), _i("memoryBytes", "memory_bytes")),
        computed=True,
    ),
    _block(
        "restartPolicy",
        "restart_policy",
        _s("condition", "condition"),
        _s("delay", "delay"),
        _i("maxAttempts", "max_attempts"),
        _s("window", "window"),
        computed=True,
    ),
    _block(
        "placement",
        "placement",
        Field("constraints", "constraints", "set"),
        Field("prefs", "prefs", "set"),
        _i("maxReplicas", "max_replicas"),
        _block_set(
            "platforms", "platforms", _s("architecture", "architecture", required=True), _s("os", "os", required=True)
        ),
        computed=True,
    ),
    _i("forceUpdate", "force_update", computed=True),
    _s("runtime", "runtime", computed=True),
    _block_set(
        "networksAdvanceds",
        "networks_advanced",
        _s("name", "name", force_new=True),
        _s("id", "id", force_new=True),
        Field("aliases", "aliases", "set", force_new=True),
        Field("driverOpts", "driver_opts", "set", force_new=True),
    ),
    _block("logDriver", "log_driver", _s("name", "name", required=True), Field("options", "options", "map")),
    required=True,
)

SERVICE_FIELDS: tuple[Field, ...] = (
    _block(
        "auth",
        "auth",
        _s("serverAddress", "server_address", required=True, force_new=True),
        _s("username", "username", force_new=True),
        _s("password", "password", force_new=True, sensitive=True),
        force_new=True,
    ),
    _s("name", "name", required=True, force_new=True),
    _labels("labels", "labels", force_new=False, computed=True),
    TASK_SPEC,
    # "mode" is ForceNew as a block: only a change in its number of blocks
    # (0 <-> 1) replaces; "replicas" inside it is not ForceNew.
    _block(
        "mode",
        "mode",
        _block("replicated", "replicated", _i("replicas", "replicas", default=1), computed=True),
        _b("global", "global", default=False),
        computed=True,
        force_new=True,
    ),
    _rollout("updateConfig", "update_config"),
    _rollout("rollbackConfig", "rollback_config"),
    _block(
        "endpointSpec",
        "endpoint_spec",
        _s("mode", "mode", computed=True),
        Field(
            "ports",
            "ports",
            "block_list",
            (
                _s("name", "name"),
                _s("protocol", "protocol", default="tcp"),
                _i("targetPort", "target_port", required=True),
                _i("publishedPort", "published_port", computed=True),
                _s("publishMode", "publish_mode", default="ingress"),
            ),
        ),
        computed=True,
    ),
    _block(
        "convergeConfig", "converge_config", _s("delay", "delay", default="7s"), _s("timeout", "timeout", default="3m")
    ),
)

NETWORK_FIELDS: tuple[Field, ...] = (
    _s("name", "name", required=True, force_new=True),
    _labels("labels", "labels", force_new=True),
    _s("driver", "driver", computed=True, force_new=True),
    Field("options", "options", "map", computed=True, force_new=True),
    _b("internal", "internal", computed=True, force_new=True),
    _b("attachable", "attachable", force_new=True),
    _b("ingress", "ingress", force_new=True),
    _b("ipv6", "ipv6", force_new=True),
    _s("ipamDriver", "ipam_driver", default="default", force_new=True),
    Field("ipamOptions", "ipam_options", "map", force_new=True),
    _block_set(
        "ipamConfigs",
        "ipam_config",
        _s("subnet", "subnet", force_new=True),
        _s("ipRange", "ip_range", force_new=True),
        _s("gateway", "gateway", force_new=True),
        Field("auxAddress", "aux_address", "map", force_new=True),
        computed=True,
        force_new=True,
    ),
    _s("scope", "scope", computed=True),
)

CONFIG_FIELDS: tuple[Field, ...] = (
    _s("name", "name", required=True, force_new=True),
    _s("data", "data", force_new=True),
    _s("dataRaw", "data_raw", force_new=True),
    _labels("labels", "labels", force_new=True),
)

# resource_docker_secret.go resourceDockerSecret: every field ForceNew and no UpdateContext, so any change replaces;
# "data" is Required (not ExactlyOneOf with a data_raw as in docker_config) and Sensitive.
SECRET_FIELDS: tuple[Field, ...] = (
    _s("name", "name", required=True, force_new=True),
    _s("data", "data", required=True, force_new=True, sensitive=True),
    _labels("labels", "labels", force_new=True),
)

SCHEMAS: dict[str, tuple[Field, ...]] = {
    SERVICE: SERVICE_FIELDS,
    NETWORK: NETWORK_FIELDS,
    SERVICE_CONFIG: CONFIG_FIELDS,
    SECRET: SECRET_FIELDS,
}


def field_at(fields: tuple[Field, ...], dotted: str) -> Field:
    """The field at a dotted Pulumi path such as "taskSpec.containerSpec.image" (for tests and messages)."""
    found: Field | None = None
    for part in dotted.split("."):
        found = next(f for f in fields if f.name == part)
        fields = found.fields
    assert found is not None
    return found
