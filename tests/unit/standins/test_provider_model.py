"""The modelled pulumi-docker pieces that need no Docker: Go durations, image references,
the read-back (flatten*), the spec the provider sends, and the diff with its replace rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from standins.resource_types import NETWORK, SERVICE, SERVICE_CONFIG
from standins.swarm_applier.gotime import go_string, parse_duration, short_dur
from standins.swarm_applier.image_ref import image_with_digest_string, image_with_tag_string, tagged
from standins.swarm_applier.plan import plan
from standins.swarm_applier.provider_spec import network_create_args, service_spec
from standins.swarm_applier.readback import UnmodelledOutput, merge_read, read_config, read_network, read_service
from standins.swarm_applier.schema import SCHEMAS, field_at

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
    service["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] = ["A=1"]
    with pytest.raises(UnmodelledOutput, match="Env"):
        read_service(service)


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
