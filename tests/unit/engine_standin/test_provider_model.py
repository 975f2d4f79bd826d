"""The modelled pulumi-docker pieces that need no Docker: Go durations, image references,
the read-back (flatten*), the spec the provider sends, and the diff with its replace rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine_standin.swarm_applier.gotime import go_string, parse_duration, short_dur
from engine_standin.swarm_applier.plan import ignore_changes, plan
from engine_standin.swarm_applier.provider_spec import network_create_args, secret_data, service_spec
from engine_standin.swarm_applier.readback import (
    UnmodelledOutput,
    merge_read,
    read_config,
    read_network,
    read_secret,
    read_service,
)
from engine_standin.swarm_applier.schema import SCHEMAS, field_at
from engine_standin.swarm_applier.state import open_secrets, seal_outputs
from offline_runner.resource_types import NETWORK, SECRET, SERVICE, SERVICE_CONFIG
from swarm_zero_downtime.swarm.image_ref import image_with_digest_string, image_with_tag_string, tagged

S = SCHEMAS[SERVICE]

# --- Go durations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, string, short",
    [
        ("0s", "0s", "0s"),
        ("500ms", "500ms", "500ms"),
        ("90s", "1m30s", "1m30s"),
        ("1000ms", "1s", "1s"),
        ("5m", "5m0s", "5m"),
        ("2h", "2h0m0s", "2h"),
        ("1h30m", "1h30m0s", "1h30m"),
        ("1.5s", "1.5s", "1.5s"),
        ("3us", "3µs", "3µs"),
    ],
)
def test_durations_read_back_through_short_dur(text, string, short):
    nanos = parse_duration(text)
    assert nanos is not None
    assert go_string(nanos) == string
    assert short_dur(nanos) == short


def test_bad_durations_do_not_parse():
    assert parse_duration("5 seconds") is None
    assert parse_duration("") is None


# --- image references (moby client service_create.go) --------------------------------------


def test_the_go_client_tags_and_familiarises_images():
    assert image_with_tag_string("nginx") == "nginx:latest"
    assert image_with_tag_string("docker.io/library/nginx:1.30-alpine") == "nginx:1.30-alpine"
    assert image_with_tag_string("registry.example.com:5000/team/app:v1") == "registry.example.com:5000/team/app:v1"
    assert tagged("a" * 64) == "a" * 64  # does not parse: sent as written


def test_a_pin_keeps_the_tag_and_never_pins_twice():
    digest = "sha256:" + "b" * 64
    assert image_with_digest_string("szd-testapp:v1", digest) == f"szd-testapp:v1@{digest}"
    pinned = f"nginx:1.30@{'sha256:' + 'c' * 64}"
    assert image_with_digest_string(pinned, digest) == pinned


# --- read-back (resourceDockerServiceReadRefreshFunc + flatten*) -----------------------------


def docker_service(**changes: Any) -> dict[str, Any]:
    """An inspect as Docker 20.10 returns it for a service pulumi-docker created (captured on this machine)."""
    service: dict[str, Any] = {
        "ID": "svc1",
        "Spec": {
            "Name": "web-1234567",
            "Labels": {"swarm-zero-downtime.pool": "real"},
            "TaskTemplate": {
                "ContainerSpec": {
                    "Image": "szd-testapp:v1",
                    "Hostname": "app-real-{{.Task.Slot}}",
                    "Init": False,
                    "StopGracePeriod": 90 * 10**9,
                    "Healthcheck": {
                        "Test": ["CMD-SHELL", "true"],
                        "Interval": 10**9,
                        "Timeout": 10**9,
                        "StartPeriod": 2 * 10**9,
                        "Retries": 2,
                    },
                    "DNSConfig": {},
                    "Isolation": "default",
                },
                "Resources": {},
                "RestartPolicy": {"Condition": "any", "MaxAttempts": 0},
                "Placement": {},
                "Networks": [{"Target": "net1", "Aliases": ["web"]}],
                "ForceUpdate": 0,
                "Runtime": "container",
            },
            "Mode": {"Replicated": {"Replicas": 2}},
            "UpdateConfig": {
                "Parallelism": 1,
                "Delay": 10**9,
                "FailureAction": "rollback",
                "Monitor": 7 * 10**9,
                "MaxFailureRatio": 0,
                "Order": "start-first",
            },
            "EndpointSpec": {"Mode": "dnsrr"},
        },
        "Endpoint": {"Spec": {}},
    }
    service["Spec"].update(changes)
    return service


def test_read_back_normalises_like_the_provider():
    out = read_service(docker_service())
    assert out is not None
    cs = out["taskSpec"]["containerSpec"]
    assert cs["stopGracePeriod"] == "1m30s"  # shortDur, whatever the input said
    assert cs["healthcheck"] == {
        "tests": ["CMD-SHELL", "true"],
        "interval": "1s",
        "timeout": "1s",
        "startPeriod": "2s",
        "retries": 2,
    }
    assert cs["isolation"] == "default" and cs["init"] is False and cs["dnsConfig"] == {}
    assert out["updateConfig"]["maxFailureRatio"] == "0.0"  # FormatFloat(v, 'f', 1, 64)
    assert out["updateConfig"]["delay"] == "1s"
    assert out["mode"] == {"replicated": {"replicas": 2}, "global": False}
    assert out["taskSpec"]["restartPolicy"] == {"condition": "any", "maxAttempts": 0}
    assert out["taskSpec"]["networksAdvanceds"] == [{"id": "net1", "driverOpts": [], "aliases": ["web"]}]
    assert out["labels"] == [{"label": "swarm-zero-downtime.pool", "value": "real"}]
    assert out["endpointSpec"] == {"mode": "dnsrr"}  # from Spec.EndpointSpec while Endpoint is not filled


def test_read_back_stores_the_image_as_docker_has_it():
    pinned = "szd-testapp:v1@sha256:" + "d" * 64
    service = docker_service()
    service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] = pinned
    out = read_service(service)
    assert out is not None and out["taskSpec"]["containerSpec"]["image"] == pinned


def test_read_back_prefers_the_runtime_endpoint_and_waits_without_one():
    service = docker_service()
    service["Endpoint"] = {
        "Spec": {"Mode": "vip"},
        "Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 30001, "PublishMode": "ingress"}],
    }
    out = read_service(service)
    assert out is not None
    assert out["endpointSpec"] == {
        "mode": "vip",
        "ports": [{"name": "", "protocol": "tcp", "targetPort": 80, "publishedPort": 30001, "publishMode": "ingress"}],
    }
    pending = docker_service(EndpointSpec={})
    assert read_service(pending) is None  # "pending": polled again


def test_read_back_keeps_what_the_read_does_not_set():
    state = {"convergeConfig": {"delay": "2s", "timeout": "5m"}, "name": "old"}
    read = read_service(docker_service())
    assert read is not None
    merged = merge_read(state, read)
    assert merged["convergeConfig"] == {"delay": "2s", "timeout": "5m"}
    assert merged["name"] == "web-1234567"


def test_a_docker_setting_whose_read_back_is_not_modelled_is_refused():
    service = docker_service()
    service["Spec"]["TaskTemplate"]["ContainerSpec"]["Dir"] = "/srv"
    with pytest.raises(UnmodelledOutput, match="Dir"):
        read_service(service)


def provider_container_spec(container_spec: dict[str, Any]) -> dict[str, Any]:
    """The ContainerSpec pulumi-docker sends for a service created with ``container_spec``."""
    config = {"name": "s", "taskSpec": {"containerSpec": container_spec}}
    return service_spec(plan(S, None, config).planned)["TaskTemplate"]["ContainerSpec"]


def test_command_args_and_env_are_sent_and_read_back_as_the_provider_does():
    planned = {
        "image": "app:1",
        "commands": ["/bin/app"],
        "args": ["--port", "8080"],
        "env": {"A": "1", "B": "x=y", "C": ""},
    }
    spec = provider_container_spec(planned)
    assert (spec["Command"], spec["Args"]) == (["/bin/app"], ["--port", "8080"])
    # Go map order: the same entries, in any order.
    assert sorted(spec["Env"]) == ["A=1", "B=x=y", "C="]
    service = docker_service()
    service["Spec"]["TaskTemplate"]["ContainerSpec"].update(Command=spec["Command"], Args=spec["Args"], Env=spec["Env"])
    read_back = read_service(service)
    assert read_back is not None
    read = read_back["taskSpec"]["containerSpec"]
    assert {k: read[k] for k in ("commands", "args", "env")} == {k: planned[k] for k in ("commands", "args", "env")}


def test_env_goes_out_in_go_map_order():
    # mapTypeMapValsToStringSlice ranges over a Go map: requests differ in order.
    env = {f"K{i}": str(i) for i in range(8)}
    orders = {tuple(provider_container_spec({"image": "app:1", "env": env})["Env"]) for _ in range(20)}
    assert len(orders) > 1


def test_network_and_config_read_back():
    network = {
        "Name": "net-1",
        "Id": "n1",
        "Scope": "swarm",
        "Driver": "overlay",
        "Attachable": True,
        "Internal": False,
        "Ingress": False,
        "EnableIPv6": False,
        "Labels": None,
        "Options": {"com.docker.network.driver.overlay.vxlanid_list": "4097"},
        "IPAM": {"Driver": "default", "Options": None, "Config": [{"Subnet": "10.0.9.0/24", "Gateway": "10.0.9.1"}]},
    }
    out = read_network(network)
    assert out["ipamDriver"] == "default" and out["attachable"] is True and out["labels"] == []
    config = {"ID": "c1", "Spec": {"Name": "conf", "Data": "aGk=", "Labels": {}}}
    assert read_config(config, {})["data"] == "aGk="


# --- what the provider sends (createServiceSpec) ------------------------------------------------


def test_the_spec_carries_the_provider_zero_values():
    planned = plan(S, None, {"name": "web", "taskSpec": {"containerSpec": {"image": "nginx"}}}).planned
    spec = service_spec(planned)
    cs = spec["TaskTemplate"]["ContainerSpec"]
    assert cs == {
        "Image": "nginx:latest",
        "StopGracePeriod": 0,
        "Healthcheck": {},
        "DNSConfig": {},
        "Isolation": "default",
        "Init": False,
    }
    assert spec["TaskTemplate"]["RestartPolicy"] == {} and spec["TaskTemplate"]["Placement"] == {}
    assert spec["EndpointSpec"] == {} and spec["Mode"] == {}
    assert "UpdateConfig" not in spec and "Labels" not in spec


def test_sysctls_are_sent_read_back_and_replace_when_changed():
    # createContainerSpec copies the map; flattenContainerSpec sets "sysctl" when it is not empty;
    # the schema marks it ForceNew.
    sysctls = {"net.ipv4.tcp_retries2": "3"}
    config = program_config()
    config["taskSpec"]["containerSpec"]["sysctl"] = sysctls
    assert service_spec(plan(S, None, config).planned)["TaskTemplate"]["ContainerSpec"]["Sysctls"] == sysctls
    inspect = docker_service()
    inspect["Spec"]["TaskTemplate"]["ContainerSpec"]["Sysctls"] = sysctls
    read = read_service(inspect)
    assert read is not None and read["taskSpec"]["containerSpec"]["sysctl"] == sysctls
    assert plan(S, merge_read(plan(S, None, config).planned, read), config).changes == []
    # Added to a service created without it: a replacement, not an update.
    assert plan(S, outputs_after_create(), config).replaces == ("taskSpec.containerSpec.sysctl",)


def test_an_update_sends_back_what_the_read_back_stored():
    prior = merge_read({"convergeConfig": {"delay": "2s", "timeout": "5m"}}, read_service(docker_service()) or {})
    config = {
        "name": "web-1234567",
        "labels": [{"label": "swarm-zero-downtime.pool", "value": "real"}],
        "taskSpec": {
            "containerSpec": {"image": "szd-testapp:v2"},
            "networksAdvanceds": [{"id": "net1", "aliases": ["web"]}],
        },
    }
    spec = service_spec(plan(S, prior, config).planned)
    # restart_policy (Optional+Computed) comes from the state: delay/window unset -> 0 (pulumi-docker #1285)
    assert spec["TaskTemplate"]["RestartPolicy"] == {"Condition": "any", "Delay": 0, "MaxAttempts": 0, "Window": 0}
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == "szd-testapp:v2"  # no pin on update
    assert spec["TaskTemplate"]["Runtime"] == "container"


def test_network_create_sends_only_what_is_set():
    planned = plan(SCHEMAS[NETWORK], None, {"name": "n", "driver": "overlay", "attachable": True}).planned
    args = network_create_args(planned)
    assert args == {
        "name": "n",
        "driver": "overlay",
        "attachable": True,
        "ipam": {"Driver": "default", "Config": [], "Options": None},
    }


# --- the diff against the stored outputs ------------------------------------------------------


def program_config() -> dict[str, Any]:
    return {
        "name": "web-1234567",
        "labels": [{"label": "swarm-zero-downtime.pool", "value": "real"}],
        "taskSpec": {
            "containerSpec": {
                "image": "szd-testapp:v1",
                "hostname": "app-real-{{.Task.Slot}}",
                "stopGracePeriod": "1m30s",
                "healthcheck": {
                    "tests": ["CMD-SHELL", "true"],
                    "interval": "1s",
                    "timeout": "1s",
                    "startPeriod": "2s",
                    "retries": 2.0,
                },
            },
            "networksAdvanceds": [{"id": "net1", "aliases": ["web"]}],
        },
        "mode": {"replicated": {"replicas": 2.0}},
        "updateConfig": {
            "parallelism": 1.0,
            "delay": "1s",
            "failureAction": "rollback",
            "monitor": "7s",
            "maxFailureRatio": "0",
            "order": "start-first",
        },
        "endpointSpec": {"mode": "dnsrr"},
        "convergeConfig": {"delay": "2s", "timeout": "5m"},
    }


def outputs_after_create() -> dict[str, Any]:
    planned = plan(S, None, program_config()).planned
    read = read_service(docker_service())
    assert read is not None
    return merge_read(planned, read)


MIB = 1024**2


def with_limits(outputs: dict[str, Any], resources: dict[str, Any]) -> dict[str, Any]:
    """``outputs`` once Docker holds ``resources`` (TaskTemplate.Resources) and the provider has read it back."""
    read = read_service(docker_service_with(Resources=resources))
    assert read is not None
    return merge_read(outputs, read)


def docker_service_with(**task: Any) -> dict[str, Any]:
    service = docker_service()
    service["Spec"]["TaskTemplate"].update(task)
    return service


def test_resources_are_sent_and_read_back_as_the_provider_does():
    config = program_config()
    config["taskSpec"]["resources"] = {"limits": {"memoryBytes": 128.0 * MIB}, "reservation": {"nanoCpus": 5e7}}
    planned = plan(S, outputs_after_create(), config)
    assert planned.paths == ("taskSpec.resources.limits", "taskSpec.resources.reservation")
    # createResources: a block given is sent whole, an unset int as 0.
    assert service_spec(planned.planned)["TaskTemplate"]["Resources"] == {
        "Limits": {"NanoCPUs": 0, "MemoryBytes": 128 * MIB},
        "Reservations": {"NanoCPUs": 50_000_000, "MemoryBytes": 0},
    }
    # Docker keeps the zeros out (omitempty); flattenResourceLimits/Reservations read them back as 0,
    # which an unset Optional int equals: the next preview is no change.
    stored = {"Limits": {"MemoryBytes": 128 * MIB}, "Reservations": {"NanoCPUs": 50_000_000}}
    outputs = with_limits(planned.planned, stored)
    assert outputs["taskSpec"]["resources"] == {
        "limits": {"nanoCpus": 0, "memoryBytes": 128 * MIB},
        "reservation": {"nanoCpus": 50_000_000, "memoryBytes": 0},
    }
    assert plan(S, outputs, config).changes == []


def test_an_empty_resources_block_removes_the_limits_and_a_missing_one_keeps_them():
    outputs = with_limits(outputs_after_create(), {"Limits": {"MemoryBytes": 128 * MIB}})
    # Left out: Optional+Computed, the read-back limit stays, and is sent again.
    left_out = plan(S, outputs, program_config())
    assert left_out.changes == []
    assert service_spec(left_out.planned)["TaskTemplate"]["Resources"] == {
        "Limits": {"NanoCPUs": 0, "MemoryBytes": 128 * MIB}
    }
    # Declared empty (what the program declares with no limit set): the limit goes.
    config = program_config()
    config["taskSpec"]["resources"] = {}
    emptied = plan(S, outputs, config)
    assert emptied.paths == ("taskSpec.resources.limits",)
    assert service_spec(emptied.planned)["TaskTemplate"]["Resources"] == {}


def test_an_empty_resources_block_read_back_empty_is_no_change():
    config = program_config()
    config["taskSpec"]["resources"] = {}
    # docker_service() holds "Resources": {}, as Docker returns it for a service the provider created.
    assert plan(S, outputs_after_create(), config).changes == []


def test_generic_resources_in_docker_are_refused():
    service = docker_service_with(Resources={"Reservations": {"GenericResources": [{"NamedResourceSpec": {}}]}})
    with pytest.raises(UnmodelledOutput, match="GenericResources"):
        read_service(service)


def test_the_same_program_against_its_read_back_is_no_change():
    assert plan(S, outputs_after_create(), program_config()).changes == []


def test_an_image_change_is_one_in_place_update():
    config = program_config()
    config["taskSpec"]["containerSpec"]["image"] = "szd-testapp:v2"
    result = plan(S, outputs_after_create(), config)
    assert result.paths == ("taskSpec.containerSpec.image",)
    assert result.replaces == ()
    assert result.planned["taskSpec"]["containerSpec"]["image"] == "szd-testapp:v2"
    assert result.planned["convergeConfig"] == {"delay": "2s", "timeout": "5m"}


def test_a_duration_written_otherwise_than_shortdur_diffs_forever():
    config = program_config()
    config["taskSpec"]["containerSpec"]["stopGracePeriod"] = "90s"
    assert plan(S, outputs_after_create(), config).paths == ("taskSpec.containerSpec.stopGracePeriod",)


def test_a_pinned_image_in_the_state_diffs_against_a_plain_tag():
    outputs = outputs_after_create()
    outputs["taskSpec"]["containerSpec"]["image"] = "szd-testapp:v1@sha256:" + "d" * 64
    assert plan(S, outputs, program_config()).paths == ("taskSpec.containerSpec.image",)


def test_replicas_update_in_place_only_the_mode_block_count_replaces():
    config = program_config()
    config["mode"] = {"replicated": {"replicas": 3.0}}
    result = plan(S, outputs_after_create(), config)
    assert result.paths == ("mode.replicated.replicas",) and result.replaces == ()
    assert field_at(S, "mode").force_new and not field_at(S, "mode.replicated.replicas").force_new
    # A prior state without the block and a config with it: the count goes 0 -> 1, ForceNew.
    outputs = outputs_after_create()
    del outputs["mode"]
    assert plan(S, outputs, program_config()).replaces == ("mode",)


@pytest.mark.parametrize(
    "edit, replaced",
    [
        (
            lambda c: c["taskSpec"]["networksAdvanceds"][0].update(aliases=["web", "www"]),
            "taskSpec.networksAdvanceds[0].aliases",
        ),
        (lambda c: c["taskSpec"]["networksAdvanceds"][0].update(id="net2"), "taskSpec.networksAdvanceds[0].id"),
        (lambda c: c.update(name="web-other"), "name"),
        (lambda c: c.update(auth={"serverAddress": "registry.example.com"}), "auth"),
    ],
)
def test_force_new_changes_replace(edit, replaced):
    config = program_config()
    edit(config)
    assert replaced in plan(S, outputs_after_create(), config).replaces


def test_in_place_changes():
    config = program_config()
    config["labels"] = [{"label": "swarm-zero-downtime.pool", "value": "backup"}]
    config["updateConfig"]["monitor"] = "8s"
    config["endpointSpec"] = {"mode": "vip"}
    result = plan(S, outputs_after_create(), config)
    assert set(result.paths) == {"labels[0].value", "updateConfig.monitor", "endpointSpec.mode"}
    assert result.replaces == ()


def test_a_rotated_config_reference_is_an_update_of_that_set_element():
    prior = outputs_after_create()
    prior["taskSpec"]["containerSpec"]["configs"] = [
        {
            "configId": "c1",
            "configName": "conf-1",
            "fileName": "/etc/x",
            "fileUid": "0",
            "fileGid": "0",
            "fileMode": 292,
        }
    ]
    config = program_config()
    config["taskSpec"]["containerSpec"]["configs"] = [{"configId": "c2", "configName": "conf-2", "fileName": "/etc/x"}]
    result = plan(S, prior, config)
    assert result.paths == (
        "taskSpec.containerSpec.configs[0].configId",
        "taskSpec.containerSpec.configs[0].configName",
    )
    assert result.replaces == ()


def test_max_failure_ratio_is_compared_as_a_float():
    config = program_config()
    config["updateConfig"]["maxFailureRatio"] = "0.00"
    assert plan(S, outputs_after_create(), config).changes == []


def test_unset_optional_attributes_are_their_zero_value():
    # flattenContainerSpec leaves hostname out when empty; a config without it is no change.
    outputs = outputs_after_create()
    del outputs["taskSpec"]["containerSpec"]["hostname"]
    config = program_config()
    del config["taskSpec"]["containerSpec"]["hostname"]
    assert plan(S, outputs, config).changes == []


@pytest.mark.parametrize(
    "key, value", [("driver", "bridge"), ("attachable", False), ("internal", True), ("name", "other")]
)
def test_every_network_input_replaces(key, value):
    fields = SCHEMAS[NETWORK]
    config = {"name": "n", "driver": "overlay", "attachable": True}
    outputs = merge_read(
        plan(fields, None, config).planned,
        read_network(
            {
                "Name": "n",
                "Scope": "swarm",
                "Driver": "overlay",
                "Attachable": True,
                "Options": {"x": "1"},
                "IPAM": {"Driver": "default", "Config": [{"Subnet": "10.0.9.0/24"}]},
            }
        ),
    )
    assert plan(fields, outputs, config).changes == []
    changed = {**copy.deepcopy(config), key: value}
    assert plan(fields, outputs, changed).replaces == (key,)


@pytest.mark.parametrize("key, value", [("data", "aGkh"), ("name", "conf-2")])
def test_config_data_and_name_replace(key, value):
    fields = SCHEMAS[SERVICE_CONFIG]
    config = {"name": "conf", "data": "aGk="}
    outputs = read_config({"ID": "c1", "Spec": {"Name": "conf", "Data": "aGk="}}, plan(fields, None, config).planned)
    assert plan(fields, outputs, config).changes == []
    assert plan(fields, outputs, {**config, key: value}).replaces == (key,)


# --- stop_signal and secret references on a service ------------------------------------------

SECRET_REFS = [
    {
        "SecretID": "sec1",
        "SecretName": "pw-1234567",
        "File": {"Name": "/run/secrets/pw", "UID": "0", "GID": "0", "Mode": 0o444},
    }
]


def test_stop_signal_and_secrets_flags_are_the_schemas():
    stop_signal = field_at(S, "taskSpec.containerSpec.stopSignal")
    assert (stop_signal.kind, stop_signal.computed, stop_signal.force_new, stop_signal.default) == (
        "string",
        False,
        False,
        None,
    )
    secrets = field_at(S, "taskSpec.containerSpec.secrets")
    assert secrets.kind == "block_set" and not secrets.force_new and not secrets.computed
    by_name = {f.name: f for f in secrets.fields}
    assert by_name["secretId"].required and by_name["fileName"].required and not by_name["secretName"].required
    assert (by_name["fileUid"].default, by_name["fileGid"].default, by_name["fileMode"].default) == ("0", "0", 0o444)
    assert not any(f.force_new for f in secrets.fields)


def test_the_spec_sends_stop_signal_and_secrets_only_when_set():
    config: dict[str, Any] = {
        "name": "db",
        "taskSpec": {
            "containerSpec": {
                "image": "postgres:16",
                "stopSignal": "SIGINT",
                "secrets": [{"secretId": "sec1", "secretName": "pw-1234567", "fileName": "/run/secrets/pw"}],
            }
        },
    }
    cs = service_spec(plan(S, None, config).planned)["TaskTemplate"]["ContainerSpec"]
    assert cs["StopSignal"] == "SIGINT"
    assert cs["Secrets"] == SECRET_REFS  # file_uid/file_gid/file_mode: the schema's defaults
    del config["taskSpec"]["containerSpec"]["secrets"][0]["secretName"]
    cs = service_spec(plan(S, None, config).planned)["TaskTemplate"]["ContainerSpec"]
    assert "SecretName" not in cs["Secrets"][0]  # "" and omitempty


def test_stop_signal_and_secrets_read_back():
    service = docker_service()
    service["Spec"]["TaskTemplate"]["ContainerSpec"].update(StopSignal="SIGQUIT", Secrets=copy.deepcopy(SECRET_REFS))
    out = read_service(service)
    assert out is not None
    cs = out["taskSpec"]["containerSpec"]
    assert cs["stopSignal"] == "SIGQUIT"
    assert cs["secrets"] == [
        {
            "secretId": "sec1",
            "secretName": "pw-1234567",
            "fileName": "/run/secrets/pw",
            "fileUid": "0",
            "fileGid": "0",
            "fileMode": 0o444,
        }
    ]
    service["Spec"]["TaskTemplate"]["ContainerSpec"].update(StopSignal="", Secrets=[])
    out = read_service(service)
    assert out is not None and "stopSignal" not in out["taskSpec"]["containerSpec"]
    assert "secrets" not in out["taskSpec"]["containerSpec"]


def outputs_with_a_secret() -> dict[str, Any]:
    outputs = outputs_after_create()
    service = docker_service()
    service["Spec"]["TaskTemplate"]["ContainerSpec"].update(StopSignal="SIGINT", Secrets=copy.deepcopy(SECRET_REFS))
    read = read_service(service)
    assert read is not None
    return merge_read(outputs, read)


def config_with_a_secret() -> dict[str, Any]:
    config = program_config()
    config["taskSpec"]["containerSpec"]["stopSignal"] = "SIGINT"
    config["taskSpec"]["containerSpec"]["secrets"] = [
        {"secretId": "sec1", "secretName": "pw-1234567", "fileName": "/run/secrets/pw"}
    ]
    return config


def test_the_same_secret_reference_is_no_change():
    assert plan(S, outputs_with_a_secret(), config_with_a_secret()).changes == []


def test_a_changed_secret_reference_is_an_in_place_update():
    config = config_with_a_secret()
    config["taskSpec"]["containerSpec"]["secrets"][0].update(secretId="sec2", secretName="pw-7654321")
    result = plan(S, outputs_with_a_secret(), config)
    assert result.paths == (
        "taskSpec.containerSpec.secrets[0].secretId",
        "taskSpec.containerSpec.secrets[0].secretName",
    )
    assert result.replaces == ()
    assert service_spec(result.planned)["TaskTemplate"]["ContainerSpec"]["Secrets"][0]["SecretID"] == "sec2"
    # Adding a second reference, or removing every one, is an update too.
    config["taskSpec"]["containerSpec"]["secrets"].append({"secretId": "sec3", "fileName": "/run/secrets/x"})
    assert plan(S, outputs_with_a_secret(), config).replaces == ()
    del config["taskSpec"]["containerSpec"]["secrets"]
    result = plan(S, outputs_with_a_secret(), config)
    assert result.paths == ("taskSpec.containerSpec.secrets",) and result.replaces == ()


def test_stop_signal_updates_in_place_and_unset_removes_it():
    config = config_with_a_secret()
    config["taskSpec"]["containerSpec"]["stopSignal"] = "SIGTERM"
    result = plan(S, outputs_with_a_secret(), config)
    assert result.paths == ("taskSpec.containerSpec.stopSignal",) and result.replaces == ()
    # Optional, not Computed: unset is "", so a stop signal set in Docker is removed.
    del config["taskSpec"]["containerSpec"]["stopSignal"]
    result = plan(S, outputs_with_a_secret(), config)
    assert result.paths == ("taskSpec.containerSpec.stopSignal",)
    assert "StopSignal" not in service_spec(result.planned)["TaskTemplate"]["ContainerSpec"]


# --- docker_secret ---------------------------------------------------------------------------

SECRET_FIELDS = SCHEMAS[SECRET]


def test_every_secret_field_is_force_new_and_data_is_sensitive():
    assert all(f.force_new for f in SECRET_FIELDS if f.kind != "block_set")
    assert field_at(SECRET_FIELDS, "labels.label").force_new and field_at(SECRET_FIELDS, "labels.value").force_new
    data = field_at(SECRET_FIELDS, "data")
    assert data.required and data.sensitive
    assert field_at(SECRET_FIELDS, "name").required  # pulumi-docker auto-names it


def test_secret_read_back_sets_the_name_only():
    planned = plan(
        SECRET_FIELDS, None, {"name": "pw", "data": "aGk=", "labels": [{"label": "a", "value": "b"}]}
    ).planned
    assert secret_data(planned) == b"hi"
    # Docker returns no Data, and labels other than the state's are not read either.
    inspected = {"ID": "sec1", "Spec": {"Name": "pw", "Labels": {"a": "changed", "c": "d"}}}
    assert read_secret(inspected, planned) == planned


def sealed_secret_outputs(data: str = "aGk=") -> dict[str, Any]:
    planned = plan(SECRET_FIELDS, None, {"name": "pw", "data": data}).planned
    return seal_outputs(SECRET_FIELDS, read_secret({"ID": "sec1", "Spec": {"Name": "pw"}}, planned), ())


@pytest.mark.parametrize("key, value", [("data", "aGkh"), ("name", "pw-2"), ("labels", [{"label": "a", "value": "b"}])])
def test_every_secret_change_replaces(key, value):
    config = {"name": "pw", "data": "aGk="}
    prior = sealed_secret_outputs()
    assert "aGk=" not in str(prior)
    assert plan(SECRET_FIELDS, open_secrets(prior, config), config).changes == []
    changed = {**config, key: value}
    result = plan(SECRET_FIELDS, open_secrets(prior, changed), changed)
    assert result.replaces and result.replaces[0].split("[")[0] == key


def test_a_sealed_prior_value_is_a_change_unless_opened():
    prior = sealed_secret_outputs()
    result = plan(SECRET_FIELDS, prior, {"name": "pw", "data": "aGk="})  # not opened: cannot be compared
    assert result.replaces == ("data",)
    assert result.planned["data"] == "aGk="


# --- ignoreChanges: what Docker records at create (the placement platforms) ------------------------

PLATFORMS = "taskSpec.placement.platforms"
RECORDED = [{"architecture": "amd64", "os": "linux"}]


def zoned_config() -> dict[str, Any]:
    """The program's config with a placement declared (spreadOver: zone): preferences, no platforms."""
    config = program_config()
    config["taskSpec"]["placement"] = {"prefs": ["node.labels.zone"]}
    return config


def zoned_outputs(platforms: bool = True) -> dict[str, Any]:
    """The outputs after the create: Docker's client recorded the registry's platforms (QueryRegistry)."""
    inspected = docker_service()
    placement: dict[str, Any] = {"Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}]}
    if platforms:
        placement["Platforms"] = [{"Architecture": "amd64", "OS": "linux"}]
    inspected["Spec"]["TaskTemplate"]["Placement"] = placement
    read = read_service(inspected)
    assert read is not None
    return merge_read(plan(S, None, zoned_config()).planned, read)


def test_a_declared_placement_drops_the_recorded_platforms_without_the_ignore():
    prior = zoned_outputs()
    assert prior["taskSpec"]["placement"]["platforms"] == RECORDED
    result = plan(S, prior, zoned_config())
    # platforms is Optional only (not Computed) inside the Optional+Computed placement: unset, it goes.
    assert result.paths == (PLATFORMS,) and result.replaces == ()
    assert "platforms" not in result.planned["taskSpec"]["placement"]
    assert "Platforms" not in service_spec(result.planned)["TaskTemplate"]["Placement"]
    # Nothing to ignore: the same plan.
    assert ignore_changes(result, prior, ()) is result


def test_ignored_the_platforms_are_no_change_and_the_plan_keeps_them():
    prior = zoned_outputs()
    result = ignore_changes(plan(S, prior, zoned_config()), prior, (PLATFORMS,))
    assert result.changes == []
    assert result.planned["taskSpec"]["placement"] == {
        "prefs": ["node.labels.zone"],
        "platforms": RECORDED,
        "maxReplicas": 0,
    }


def test_ignored_the_platforms_stay_in_what_an_image_change_sends():
    prior = zoned_outputs()
    config = zoned_config()
    config["taskSpec"]["containerSpec"]["image"] = "szd-testapp:v2"
    result = ignore_changes(plan(S, prior, config), prior, (PLATFORMS,))
    assert result.paths == ("taskSpec.containerSpec.image",) and result.replaces == ()
    assert result.planned["taskSpec"]["containerSpec"]["image"] == "szd-testapp:v2"
    assert result.planned["taskSpec"]["placement"]["platforms"] == RECORDED
    task = service_spec(result.planned)["TaskTemplate"]
    assert task["ContainerSpec"]["Image"] == "szd-testapp:v2"
    assert task["Placement"] == {
        "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}],
        "Platforms": [{"Architecture": "amd64", "OS": "linux"}],
    }


def test_ignoring_leaves_the_plan_and_the_prior_state_as_they_were():
    prior = zoned_outputs()
    before = copy.deepcopy(prior)
    diff = plan(S, prior, zoned_config())
    planned = copy.deepcopy(diff.planned)
    ignore_changes(diff, prior, (PLATFORMS,))
    assert prior == before and diff.planned == planned and diff.paths == (PLATFORMS,)


def test_ignoring_a_block_ignores_every_change_under_it():
    prior = zoned_outputs()
    config = zoned_config()
    config["taskSpec"]["placement"] = {"prefs": ["node.labels.rack"], "maxReplicas": 2}
    diff = plan(S, prior, config)
    assert set(diff.paths) == {PLATFORMS, "taskSpec.placement.prefs", "taskSpec.placement.maxReplicas"}
    result = ignore_changes(diff, prior, ("taskSpec.placement",))
    assert result.changes == [] and result.planned["taskSpec"]["placement"] == prior["taskSpec"]["placement"]
    # A path that only starts like another is not under it.
    assert ignore_changes(diff, prior, ("taskSpec.place",)).paths == diff.paths


def test_an_ignored_path_the_prior_state_lacks_is_planned_without_a_value():
    # The registry did not answer at create: nothing was recorded, nothing to keep.
    prior = zoned_outputs(platforms=False)
    assert "platforms" not in prior["taskSpec"]["placement"]
    config = zoned_config()
    config["taskSpec"]["placement"]["platforms"] = RECORDED  # even one the config sets
    diff = plan(S, prior, config)
    assert diff.paths == (f"{PLATFORMS}[0]",)  # an added set element: still under the ignored path
    result = ignore_changes(diff, prior, (PLATFORMS,))
    assert result.changes == []
    assert "platforms" not in result.planned["taskSpec"]["placement"]
    assert ignore_changes(plan(S, prior, zoned_config()), prior, (PLATFORMS,)).changes == []


@pytest.mark.parametrize("path", ["taskSpec.placement.platforms[0]", "taskSpec.networksAdvanceds[0].aliases"])
def test_an_ignored_path_with_an_index_is_refused(path):
    prior = zoned_outputs()
    with pytest.raises(ValueError, match=r"paths with an index are not modelled"):
        ignore_changes(plan(S, prior, zoned_config()), prior, (PLATFORMS, path))


@pytest.mark.parametrize(
    ("declared", "read_back_changes"),
    [
        # Every field, as the edge declares it: sent whole, read back the same, no change next time.
        ({"condition": "any", "delay": "0s", "maxAttempts": 0.0, "window": "0s"}, []),
        # Without window: sent as 0, read back as "0s", then a change from "0s" to "" at every `up`.
        ({"condition": "any", "delay": "0s", "maxAttempts": 0.0}, ["taskSpec.restartPolicy.window"]),
    ],
)
def test_a_restart_policy_is_sent_whole_and_read_back_with_every_field(declared, read_back_changes):
    config = program_config()
    config["taskSpec"]["restartPolicy"] = declared
    sent = service_spec(plan(S, None, config).planned)["TaskTemplate"]["RestartPolicy"]
    assert sent == {"Condition": "any", "Delay": 0, "MaxAttempts": 0, "Window": 0}
    read = read_service(docker_service_with(RestartPolicy=sent))
    assert read is not None and read["taskSpec"]["restartPolicy"] == {
        "condition": "any",
        "delay": "0s",
        "maxAttempts": 0,
        "window": "0s",
    }
    stored = merge_read(plan(S, None, config).planned, read)
    assert [change.path for change in plan(S, stored, config).changes] == read_back_changes
