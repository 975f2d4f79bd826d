"""The test applier's translation and diff, without Docker: it must never drop a setting."""

from __future__ import annotations

import base64
import copy
import dataclasses
from typing import Any

import pytest

from engine_standin.swarm_applier import ApplyError, UntranslatedInput, changed_paths, physical_name, translate
from engine_standin.swarm_applier.dynamic import is_dynamic
from engine_standin.swarm_applier.translate import (
    SECRET_SIG,
    SIG_KEY,
    Converge,
    _base64,
    _boolean,
    _config_reference,
    _container_spec,
    _converge,
    _duration,
    _endpoint_spec,
    _healthcheck,
    _integer,
    _labels,
    _list,
    _mode,
    _network_attachment,
    _Obj,
    _port,
    _ratio,
    _rollout,
    _secret_reference,
    _string,
    _string_map,
    _task_spec,
)
from offline_runner.mock_program import DeclaredProgram, DeclaredResource, auto_name, mock_digest, run_program
from offline_runner.resource_types import NETWORK, SECRET, SERVICE, SERVICE_CONFIG
from offline_runner.stack_config import load_stack_config

# The e2e overrides have no home outside the e2e harness; only the constant is
# imported, so these tests need neither Docker nor the harness's fixtures.
from tests.e2e.harness import E2E_OVERRIDES


def e2e_program(**overrides: object) -> DeclaredProgram:
    """The program the e2e tests apply: the dev stack with the e2e overrides, as stack "e2e"."""
    return run_program(load_stack_config("dev", overrides={**E2E_OVERRIDES, **overrides}), "e2e")


@pytest.fixture(scope="module")
def e2e() -> DeclaredProgram:
    return e2e_program()


@pytest.fixture(params=["dev", "prod", "e2e"])
def program(request: pytest.FixtureRequest) -> DeclaredProgram:
    return request.getfixturevalue(request.param)


def custom(program: DeclaredProgram) -> list[DeclaredResource]:
    """The pulumi-docker resources; the program's dynamic resources go through the dynamic provider host instead."""
    return [r for r in program.resources if r.custom and not is_dynamic(r.type)]


def app_service(program: DeclaredProgram, role: str) -> DeclaredResource:
    return next(r for r in program.of_type(SERVICE) if r.name.endswith(f"-{role}"))


# --- the program's own resources ------------------------------------------------------


def test_every_declared_resource_translates(program: DeclaredProgram):
    assert {r.type for r in custom(program)} <= {NETWORK, SERVICE, SERVICE_CONFIG, SECRET}
    for resource in custom(program):
        translate(resource)


def test_service_spec_mirrors_pulumi_docker_fields(e2e: DeclaredProgram):
    real = app_service(e2e, "real")
    nginx = app_service(e2e, "nginx")
    plan, lb = translate(real), translate(nginx)
    container = plan.spec["TaskTemplate"]["ContainerSpec"]
    assert container["Image"] == "szd-testapp:v1@" + mock_digest("szd-testapp:v1")  # as the program pinned it
    assert container["Hostname"] == "app-real-{{.Task.Slot}}"
    assert container["StopGracePeriod"] == 10 * 10**9
    assert container["Healthcheck"]["Test"][0] == "CMD-SHELL"
    assert container["Healthcheck"]["Interval"] == 10**9
    assert plan.spec["TaskTemplate"]["Networks"] == [
        {"Target": "id-of-szde2e-net", "Aliases": ["szde2e-real"], "DriverOpts": {}}
    ]
    assert plan.spec["Mode"] == {"Replicated": {"Replicas": 2}}
    # The e2e stack keeps the project's default: no pause between steps.
    assert plan.spec["UpdateConfig"] == {
        "Parallelism": 1,
        "Delay": 0,
        "FailureAction": "rollback",
        "Monitor": 7 * 10**9,
        "MaxFailureRatio": 0.0,
        "Order": "start-first",
    }
    assert plan.spec["EndpointSpec"] == {"Mode": "dnsrr"}
    assert plan.converge.timeout_s == 120
    (config,) = lb.spec["TaskTemplate"]["ContainerSpec"]["Configs"]
    assert config["File"] == {"Name": "/etc/nginx/conf.d/default.conf", "UID": "0", "GID": "0", "Mode": 0o444}
    assert lb.spec["EndpointSpec"] == {"Mode": "dnsrr"}
    assert lb.spec["TaskTemplate"]["ContainerSpec"]["StopSignal"] == "SIGQUIT"
    assert lb.spec["TaskTemplate"]["ContainerSpec"]["Sysctls"]["net.ipv4.tcp_retries2"] == "2"
    edge = translate(e2e.get(SERVICE, "szde2e-edge"))
    assert edge.spec["Mode"] == {"Global": {}}
    assert edge.spec["TaskTemplate"]["RestartPolicy"] == {"Condition": "any", "Delay": 0, "MaxAttempts": 0, "Window": 0}
    assert edge.spec["EndpointSpec"]["Ports"] == [
        {"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 18080, "PublishMode": "host"}
    ]


@pytest.mark.parametrize(
    "path, value",
    [
        (("taskSpec", "containerSpec", "dir"), "/srv"),  # a key it does not know
        (("taskSpec", "restartPolicy", "condition"), "always"),  # not a Swarm condition
        (("updateConfig", "monitor"), "5 seconds"),  # not a Go duration
        (("mode", "replicated", "replicas"), 1.5),  # not a whole number
        (("auth",), {"serverAddress": "x"}),
        # Swarm's generic resources (GPUs and the like) are not modelled.
        (("taskSpec", "resources", "reservation", "genericResources"), {"namedResourcesSpecs": ["GPU=UUID1"]}),
        (("taskSpec", "resources", "limits", "pids"), 5),
    ],
)
def test_unknown_inputs_fail_loudly(e2e: DeclaredProgram, path, value):
    real = app_service(e2e, "real")
    inputs = copy.deepcopy(real.inputs)
    target = inputs
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    with pytest.raises(UntranslatedInput, match=path[-1]):
        translate(dataclasses.replace(real, inputs=inputs))


def test_resources_become_swarms_limits_and_reservations():
    program = e2e_program(
        appResources={"limits": {"cpus": "1", "memory": "128M"}, "reservations": {"memory": "16M"}},
    )
    real = translate(app_service(program, "real")).spec["TaskTemplate"]
    # An unset part goes out as 0, Docker's "none" (createResources).
    assert real["Resources"] == {
        "Limits": {"NanoCPUs": 10**9, "MemoryBytes": 128 * 1024**2},
        "Reservations": {"NanoCPUs": 0, "MemoryBytes": 16 * 1024**2},
    }
    # None set: the empty block, sent as Resources {} either way.
    none = e2e_program(appResources={})
    assert translate(app_service(none, "real")).spec["TaskTemplate"]["Resources"] == {}


def test_unknown_resource_type_fails_loudly():
    resource = DeclaredResource("urn:x", "docker:index/volume:Volume", "v", True, "", (), {"name": "v"})
    with pytest.raises(UntranslatedInput, match="not supported"):
        translate(resource)


def test_image_tag_change_is_one_path_per_app_service():
    v1, v2 = e2e_program(imageTag="v1"), e2e_program(imageTag="v2")
    diffs = {r.name: changed_paths(r.inputs, v2.get(r.type, r.name).inputs) for r in custom(v1)}
    # The image is part of each pool's declared spec: its spec label (after the pool label) moves with it.
    assert {name: paths for name, paths in diffs.items() if paths} == {
        "szde2e-real": ["labels[1].value", "taskSpec.containerSpec.image"],
        "szde2e-backup": ["labels[1].value", "taskSpec.containerSpec.image"],
    }


# --- translate() on its own --------------------------------------------------------------


def resource(type_: str, inputs: dict[str, Any], name: str = "thing") -> DeclaredResource:
    return DeclaredResource(f"urn:x::{name}", type_, name, True, "", (), inputs)


def test_an_untranslated_input_names_the_resource_type_name_and_path():
    service = resource(SERVICE, {"taskSpec": {"containerSpec": {"image": "x", "user": "root"}}}, "web")
    with pytest.raises(UntranslatedInput) as raised:
        translate(service)
    assert str(raised.value) == (
        f"{SERVICE} web: input(s) the test applier does not translate: taskSpec.containerSpec.user"
    )


def test_untranslated_input_is_an_apply_error():
    # The e2e scenarios catch ApplyError for every way an apply can fail.
    assert issubclass(UntranslatedInput, ApplyError)


def test_a_minimal_service_gets_the_schema_defaults():
    plan = translate(resource(SERVICE, {"taskSpec": {"containerSpec": {"image": "nginx"}}}, "web"))
    assert plan.spec == {
        "Name": auto_name("web"),
        "TaskTemplate": {"ContainerSpec": {"Image": "nginx"}, "Networks": []},
        "Mode": {"Replicated": {"Replicas": 1}},
    }
    assert plan.labels == {}
    assert plan.converge is None


def test_service_labels_and_converge_config_are_kept_apart_from_the_spec():
    plan = translate(
        resource(
            SERVICE,
            {
                "name": "web",
                "taskSpec": {"containerSpec": {"image": "nginx"}},
                "labels": [{"label": "team", "value": "ops"}],
                "convergeConfig": {"delay": "1s"},
            },
        )
    )
    assert plan.spec["Name"] == "web"
    assert "Labels" not in plan.spec
    assert plan.labels == {"team": "ops"}
    assert plan.converge == Converge(delay_s=1.0, timeout_s=180.0)


def test_a_service_without_a_task_spec_is_refused():
    with pytest.raises(UntranslatedInput, match="taskSpec: required input is missing"):
        translate(resource(SERVICE, {"name": "web"}))


def test_network_arguments():
    args = translate(
        resource(
            NETWORK,
            {
                "name": "net",
                "driver": "overlay",
                "attachable": True,
                "options": {"encrypted": "true"},
                "labels": [{"label": "a", "value": "b"}],
                "ipamConfigs": [{"subnet": "10.240.0.0/24", "gateway": "10.240.0.1"}],
            },
        )
    )
    assert args == {
        "name": "net",
        "driver": "overlay",
        "attachable": True,
        "internal": False,
        "options": {"encrypted": "true"},
        "labels": {"a": "b"},
        "ipam": [{"Subnet": "10.240.0.0/24", "IPRange": "", "Gateway": "10.240.0.1", "AuxiliaryAddresses": {}}],
    }


def test_spread_preferences_become_spread_descriptors():
    spec = _task_spec({"containerSpec": {"image": "x"}, "placement": {"prefs": ["node.labels.zone"]}}, "p")
    assert spec["Placement"] == {"Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}]}


def test_network_defaults_and_unknown_keys():
    assert translate(resource(NETWORK, {}, "net")) == {
        "name": auto_name("net"),
        "driver": None,
        "attachable": None,
        "internal": False,
        "options": None,
        "labels": {},
        "ipam": [],
    }
    with pytest.raises(UntranslatedInput, match="ipamConfigs"):
        translate(resource(NETWORK, {"ipamConfigs": [{"subnet": "10.0.0.0/24", "vlan": 3}]}))


def test_config_data_is_decoded_from_base64():
    data = b"server { listen 80; }\n"
    args = translate(resource(SERVICE_CONFIG, {"name": "conf", "data": base64.b64encode(data).decode()}))
    assert args == {"name": "conf", "data": data}


def test_config_without_data_or_with_bad_data_is_refused():
    with pytest.raises(UntranslatedInput, match="data: required input is missing"):
        translate(resource(SERVICE_CONFIG, {"name": "conf"}))
    with pytest.raises(UntranslatedInput, match="data: not standard base64"):
        translate(resource(SERVICE_CONFIG, {"name": "conf", "data": "not base64!"}))


def secret(value: Any) -> dict[str, Any]:
    """A value as the mock runtime hands over one the program marked secret (pulumi.Output.secret)."""
    return {SIG_KEY: SECRET_SIG, "value": value}


def test_secret_data_arrives_wrapped_and_is_decoded_from_base64():
    data = b"p4ssw0rd\n"
    args = translate(resource(SECRET, {"data": secret(base64.b64encode(data).decode())}, "db-password"))
    assert args == {"name": auto_name("db-password"), "data": data, "labels": {}}
    labelled = translate(
        resource(SECRET, {"name": "pw", "data": "eA==", "labels": [{"label": "app", "value": "db"}]}, "db-password")
    )
    assert labelled == {"name": "pw", "data": b"x", "labels": {"app": "db"}}


def test_secret_data_that_does_not_translate_is_never_shown():
    with pytest.raises(UntranslatedInput, match=r"data: required input is missing"):
        translate(resource(SECRET, {"name": "pw"}))
    # An error that shows no part of the value keeps its reason ...
    with pytest.raises(UntranslatedInput, match=r"^docker:index/secret:Secret thing: data: not standard base64$"):
        translate(resource(SECRET, {"data": secret("hunter2!")}))
    # ... one that would show it names the path only, wrapped or not (data is Sensitive).
    for data in (secret(12345678), 12345678, secret({"pw": "hunter2"})):
        with pytest.raises(UntranslatedInput) as raised:
            translate(resource(SECRET, {"data": data}))
        assert str(raised.value) == f"{SECRET} thing: data: the sensitive value does not translate (not shown)"
    with pytest.raises(UntranslatedInput, match=r"does not translate: driver$"):
        translate(resource(SECRET, {"data": secret("eA=="), "driver": "vault"}))


def test_a_secret_anywhere_in_a_service_is_unwrapped_and_never_shown():
    plan = translate(resource(SERVICE, {"taskSpec": {"containerSpec": {"image": secret("nginx")}}}, "web"))
    assert plan.spec["TaskTemplate"]["ContainerSpec"]["Image"] == "nginx"
    with pytest.raises(UntranslatedInput) as raised:
        translate(resource(SERVICE, {"taskSpec": {"containerSpec": {"image": "x", "hostname": secret(["h0st"])}}}))
    assert str(raised.value).endswith(
        "taskSpec.containerSpec.hostname: the secret value does not translate (not shown)"
    )
    assert "h0st" not in str(raised.value)


def test_service_secret_references_and_stop_signal():
    inputs = {
        "taskSpec": {
            "containerSpec": {
                "image": "postgres:16",
                "stopSignal": "SIGINT",
                "secrets": [
                    {"secretId": "id-of-pw", "secretName": "pw-1234567", "fileName": "/run/secrets/pw"},
                    {"secretId": "s2", "fileName": "/run/secrets/b", "fileUid": "70", "fileGid": "70", "fileMode": 256},
                ],
            }
        }
    }
    container = translate(resource(SERVICE, inputs, "db")).spec["TaskTemplate"]["ContainerSpec"]
    assert container["StopSignal"] == "SIGINT"
    assert container["Secrets"] == [
        {
            "SecretID": "id-of-pw",
            "SecretName": "pw-1234567",
            "File": {"Name": "/run/secrets/pw", "UID": "0", "GID": "0", "Mode": 0o444},
        },
        {"SecretID": "s2", "SecretName": "", "File": {"Name": "/run/secrets/b", "UID": "70", "GID": "70", "Mode": 256}},
    ]


# --- physical_name -----------------------------------------------------------------------


def test_physical_name_is_the_name_input_when_set():
    assert physical_name(resource(SERVICE, {"name": "web-1"}, "web")) == "web-1"
    assert physical_name(resource(SECRET, {"name": secret("pw-1")}, "pw")) == "pw-1"


@pytest.mark.parametrize("inputs", [{}, {"name": None}, {"name": 7}])
def test_physical_name_is_pulumis_auto_name_otherwise(inputs):
    name = physical_name(resource(SERVICE, inputs, "web"))
    assert name == auto_name("web")
    assert name.startswith("web-")
    assert len(name) == len("web-") + 7


# --- changed_paths -----------------------------------------------------------------------


def test_no_change_no_paths():
    inputs = {"a": [1, {"b": "c"}], "d": {"e": None}}
    assert changed_paths(inputs, copy.deepcopy(inputs)) == []


def test_nested_maps_give_dotted_paths_in_key_order():
    old = {"z": 1, "taskSpec": {"containerSpec": {"image": "a:v1", "hostname": "h"}}}
    new = {"z": 2, "taskSpec": {"containerSpec": {"image": "a:v2", "hostname": "h"}}}
    assert changed_paths(old, new) == ["taskSpec.containerSpec.image", "z"]


def test_added_and_removed_keys_are_changes():
    assert changed_paths({"a": 1}, {"b": 1}) == ["a", "b"]
    assert changed_paths({"a": {"b": 1}}, {"a": {}}) == ["a.b"]


def test_lists_of_the_same_length_are_compared_item_by_item():
    old = {"ports": [{"targetPort": 80, "publishMode": "ingress"}, {"targetPort": 443, "publishMode": "ingress"}]}
    new = {"ports": [{"targetPort": 80, "publishMode": "host"}, {"targetPort": 443, "publishMode": "ingress"}]}
    assert changed_paths(old, new) == ["ports[0].publishMode"]
    assert changed_paths(["a", "b", "c"], ["a", "x", "y"]) == ["[1]", "[2]"]


def test_a_list_that_changes_length_is_one_change():
    assert changed_paths({"aliases": ["a"]}, {"aliases": ["a", "b"]}) == ["aliases"]
    assert changed_paths({"aliases": ["a"]}, {"aliases": []}) == ["aliases"]


def test_a_change_of_kind_is_a_change_of_the_whole_value():
    assert changed_paths({"a": {"b": 1}}, {"a": [1]}) == ["a"]
    assert changed_paths({"a": "1"}, {"a": 1}) == ["a"]
    assert changed_paths(1, 2) == [""]


# --- the input reader --------------------------------------------------------------------


def test_reader_rejects_what_is_not_an_object():
    with pytest.raises(UntranslatedInput, match=r"^<inputs>: expected an object, got \[\]$"):
        _Obj([], "")
    with pytest.raises(UntranslatedInput, match=r"^a\.b: expected an object, got 'x'$"):
        _Obj("x", "a.b")


def test_reader_required_default_and_leftovers():
    r = _Obj({"a": "x", "b": None, "c": 1, "d": 2}, "top")
    assert r.get("a", _string) == "x"
    assert r.get("b", _string, "default") == "default"  # null is the same as unset
    with pytest.raises(UntranslatedInput, match=r"^top\.b: required input is missing$"):
        r.get("b", _string)
    with pytest.raises(UntranslatedInput, match=r"^input\(s\) the test applier does not translate: top\.c, top\.d$"):
        r.done()


def test_reader_done_when_every_key_was_read():
    r = _Obj({"a": 1}, "")
    r.get("a", _integer)
    r.done()


# --- each converter: the right values ----------------------------------------------------


def test_scalars():
    assert _string("x", "p") == "x"
    assert _integer(3, "p") == 3
    assert _integer(3.0, "p") == 3  # the wire format carries numbers as floats
    assert isinstance(_integer(3.0, "p"), int)
    assert _boolean(False, "p") is False
    assert _ratio("0.25", "p") == 0.25
    assert _base64("aGk=", "p") == b"hi"


@pytest.mark.parametrize(
    "text, nanoseconds",
    [
        ("0", 0),
        ("0s", 0),
        ("500ms", 500 * 10**6),
        ("1m30s", 90 * 10**9),
        ("1.5s", 1_500_000_000),
        (".5s", 500_000_000),
        ("2h", 7200 * 10**9),
        ("3us", 3000),
        ("3µs", 3000),
        ("7ns", 7),
    ],
)
def test_duration_is_go_syntax_in_nanoseconds(text, nanoseconds):
    assert _duration(text, "p") == nanoseconds


def test_lists_labels_and_maps():
    assert _list(_integer)([1, 2.0], "p") == [1, 2]
    assert _labels([{"label": "a", "value": "1"}, {"label": "b", "value": "2"}], "p") == {"a": "1", "b": "2"}
    assert _string_map({"a": "1"}, "p") == {"a": "1"}


def test_mode():
    assert _mode({}, "mode") == {"Replicated": {"Replicas": 1}}
    assert _mode({"replicated": {}}, "mode") == {"Replicated": {"Replicas": 1}}
    assert _mode({"replicated": {"replicas": 3}}, "mode") == {"Replicated": {"Replicas": 3}}
    assert _mode({"global": True}, "mode") == {"Global": {}}
    assert _mode({"global": False}, "mode") == {"Replicated": {"Replicas": 1}}


def test_rollout_defaults_are_the_schemas():
    assert _rollout({}, "updateConfig") == {
        "Parallelism": 1,
        "Delay": 0,
        "FailureAction": "pause",
        "Monitor": 5 * 10**9,
        "MaxFailureRatio": 0.0,
        "Order": "stop-first",
    }


def test_healthcheck_config_reference_and_network_attachment_defaults():
    assert _healthcheck({"tests": ["CMD", "true"]}, "p") == {
        "Test": ["CMD", "true"],
        "Interval": 0,
        "Timeout": 0,
        "StartPeriod": 0,
        "Retries": 0,
    }
    assert _config_reference({"configId": "c1", "fileName": "/f"}, "p") == {
        "ConfigID": "c1",
        "ConfigName": "",
        "File": {"Name": "/f", "UID": "0", "GID": "0", "Mode": 0o444},
    }
    assert _secret_reference({"secretId": "s1", "fileName": "/f"}, "p") == {
        "SecretID": "s1",
        "SecretName": "",
        "File": {"Name": "/f", "UID": "0", "GID": "0", "Mode": 0o444},
    }
    assert _network_attachment({"id": "n1", "driverOpts": ["a=b=c"]}, "p") == {
        "Target": "n1",
        "Aliases": [],
        "DriverOpts": {"a": "b=c"},
    }


def test_ports_endpoint_and_converge_defaults():
    assert _port({"targetPort": 80}, "p") == {"Protocol": "tcp", "TargetPort": 80, "PublishMode": "ingress"}
    assert _endpoint_spec({}, "p") == {}
    assert _converge({}, "p") == Converge(delay_s=7.0, timeout_s=180.0)


# --- each converter: a wrong value fails loudly, naming the path --------------------------


@pytest.mark.parametrize(
    "convert, value, message",
    [
        (_string, 1, "expected a string, got 1"),
        (_string, None, "expected a string, got None"),
        (_integer, True, "expected a whole number, got True"),  # a bool is an int to Python
        (_integer, "1", "expected a whole number, got '1'"),
        (_integer, 1.5, "expected a whole number, got 1.5"),
        (_boolean, "true", "expected true or false, got 'true'"),
        (_boolean, 1, "expected true or false, got 1"),
        (_duration, 5, "expected a string, got 5"),
        (_duration, "5 seconds", "not a Go duration: '5 seconds'"),
        (_duration, "1m30", "not a Go duration: '1m30'"),
        (_duration, "", "not a Go duration: ''"),
        (_duration, "-1s", "not a Go duration: '-1s'"),
        (_duration, "10S", "not a Go duration: '10S'"),
        (_ratio, 0.5, "expected a string, got 0.5"),
        (_ratio, "half", "not a number: 'half'"),
        (_base64, b"aGk=", "expected a string, got b'aGk='"),
        (_base64, "aGk", "not standard base64"),
        (_base64, "a-_=", "not standard base64"),  # URL-safe alphabet
        (_list(_string), "a", "expected a list, got 'a'"),
        (_list(_string), {"a": "b"}, "expected a list, got {'a': 'b'}"),
        (_labels, {"a": "b"}, "expected a list, got {'a': 'b'}"),
        (_string_map, ["a"], "expected a map, got ['a']"),
        (_healthcheck, ["CMD"], "expected an object, got ['CMD']"),
        (_config_reference, "c1", "expected an object, got 'c1'"),
        (_secret_reference, "s1", "expected an object, got 's1'"),
        (_container_spec, "nginx", "expected an object, got 'nginx'"),
        (_network_attachment, "n1", "expected an object, got 'n1'"),
        (_task_spec, [], "expected an object, got []"),
        (_mode, "global", "expected an object, got 'global'"),
        (_rollout, 1, "expected an object, got 1"),
        (_port, 80, "expected an object, got 80"),
        (_endpoint_spec, "dnsrr", "expected an object, got 'dnsrr'"),
        (_converge, True, "expected an object, got True"),
    ],
)
def test_converter_rejects_a_wrong_type(convert, value, message):
    with pytest.raises(UntranslatedInput) as raised:
        convert(value, "some.path")
    assert str(raised.value) == f"some.path: {message}"


@pytest.mark.parametrize(
    "convert, value, message",
    [
        (_list(_integer), [1, "2"], r"^p\[1\]: expected a whole number, got '2'$"),
        (_labels, [{"label": "a"}], r"^p\[0\]\.value: required input is missing$"),
        (_labels, [{"label": "a", "value": 1}], r"^p\[0\]\.value: expected a string, got 1$"),
        (_labels, [{"label": "a", "value": "b", "x": 1}], r"does not translate: p\[0\]\.x$"),
        (_string_map, {"a": 1}, r"^p\.a: expected a string, got 1$"),
        (_healthcheck, {"tests": ["CMD"], "interval": "1 s"}, r"^p\.interval: not a Go duration"),
        (_config_reference, {"configId": "c", "fileName": "/f", "fileMode": "0444"}, r"^p\.fileMode: expected a whole"),
        (_secret_reference, {"fileName": "/f"}, r"^p\.secretId: required input is missing$"),
        (_secret_reference, {"secretId": "s", "fileName": "/f", "target": "x"}, r"does not translate: p\.target$"),
        (_container_spec, {"image": "x", "stopSignal": 15}, r"^p\.stopSignal: expected a string, got 15$"),
        (_container_spec, {"image": "x", "dir": "/srv"}, r"does not translate: p\.dir$"),
        (_container_spec, {"image": "x", "env": {"A": 1}}, r"^p\.env\.A: expected a string"),
        (_network_attachment, {"id": "n", "aliases": "a"}, r"^p\.aliases: expected a list"),
        (
            _task_spec,
            {"containerSpec": {"image": "x"}, "placement": {"constraints": ["node.role==manager"]}},
            r"p\.placement\.constraints",
        ),
        (_mode, {"replicated": {"replicas": 2}, "global": True}, r"^p: replicated and global together$"),
        (_mode, {"replicated": {"replicas": 2, "max": 1}}, r"does not translate: p\.replicated\.max$"),
        (_rollout, {"parallelism": "1"}, r"^p\.parallelism: expected a whole number"),
        (_port, {"targetPort": 80, "publishedPort": "80"}, r"^p\.publishedPort: expected a whole number"),
        (_port, {"publishedPort": 80}, r"^p\.targetPort: required input is missing$"),
        (_endpoint_spec, {"ports": {"targetPort": 80}}, r"^p\.ports: expected a list"),
        (_converge, {"timeout": 60}, r"^p\.timeout: expected a string, got 60$"),
    ],
)
def test_converter_rejects_a_wrong_value_inside(convert, value, message):
    with pytest.raises(UntranslatedInput, match=message):
        convert(value, "p")
