"""The test applier's translation and diff, without Docker: it must never drop a setting."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from tests.e2e.harness import Deployment
from standins.swarm_applier import (
    NETWORK,
    SERVICE,
    SERVICE_CONFIG,
    UntranslatedInput,
    changed_paths,
    translate,
)
from standins.mock_program import DeclaredProgram, DeclaredResource, run_stack


@pytest.fixture(scope="module", params=["dev", "prod", "e2e"])
def program(request) -> DeclaredProgram:
    if request.param == "e2e":
        return Deployment(api=None, applier=None).program()
    return run_stack(request.param)


def custom(program: DeclaredProgram) -> list[DeclaredResource]:
    return [r for r in program.resources if r.custom]


def test_every_declared_resource_translates(program: DeclaredProgram):
    assert {r.type for r in custom(program)} <= {NETWORK, SERVICE, SERVICE_CONFIG}
    for resource in custom(program):
        translate(resource)


def test_service_spec_mirrors_pulumi_docker_fields():
    program = Deployment(api=None, applier=None).program()
    real = next(r for r in program.of_type(SERVICE) if r.name.endswith("-real"))
    nginx = next(r for r in program.of_type(SERVICE) if r.name.endswith("-nginx"))
    plan, lb = translate(real), translate(nginx)
    container = plan.spec["TaskTemplate"]["ContainerSpec"]
    assert container["Image"] == "szd-testapp:v1"
    assert container["Hostname"] == "app-real-{{.Task.Slot}}"
    assert container["StopGracePeriod"] == 5 * 10**9
    assert container["Healthcheck"]["Test"][0] == "CMD-SHELL"
    assert container["Healthcheck"]["Interval"] == 10**9
    assert plan.spec["TaskTemplate"]["Networks"] == [
        {"Target": "id-of-szde2e-net", "Aliases": ["szde2e-real"], "DriverOpts": {}}
    ]
    assert plan.spec["Mode"] == {"Replicated": {"Replicas": 2}}
    assert plan.spec["UpdateConfig"] == {
        "Parallelism": 1,
        "Delay": 10**9,
        "FailureAction": "rollback",
        "Monitor": 7 * 10**9,
        "MaxFailureRatio": 0.0,
        "Order": "start-first",
    }
    assert plan.spec["EndpointSpec"] == {"Mode": "dnsrr"}
    assert plan.converge.timeout_s == 120
    (config,) = lb.spec["TaskTemplate"]["ContainerSpec"]["Configs"]
    assert config["File"] == {"Name": "/etc/nginx/conf.d/default.conf", "UID": "0", "GID": "0", "Mode": 0o444}
    assert lb.spec["EndpointSpec"]["Ports"] == [
        {"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 18080, "PublishMode": "host"}
    ]


@pytest.mark.parametrize(
    "path, value",
    [
        (("taskSpec", "containerSpec", "env"), {"A": "1"}),  # a key it does not know
        (("taskSpec", "restartPolicy"), {"condition": "any"}),
        (("updateConfig", "monitor"), "5 seconds"),  # not a Go duration
        (("mode", "replicated", "replicas"), 1.5),  # not a whole number
        (("auth",), {"serverAddress": "x"}),
    ],
)
def test_unknown_inputs_fail_loudly(path, value):
    program = Deployment(api=None, applier=None).program()
    real = next(r for r in program.of_type(SERVICE) if r.name.endswith("-real"))
    inputs = copy.deepcopy(real.inputs)
    target = inputs
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    with pytest.raises(UntranslatedInput, match=path[-1]):
        translate(dataclasses.replace(real, inputs=inputs))


def test_unknown_resource_type_fails_loudly():
    resource = DeclaredResource("urn:x", "docker:index/secret:Secret", "s", True, "", (), {"data": "eA=="})
    with pytest.raises(UntranslatedInput, match="not supported"):
        translate(resource)


def test_image_tag_change_is_one_path_per_app_service():
    d = Deployment(api=None, applier=None)
    v1, v2 = d.program(imageTag="v1"), d.program(imageTag="v2")
    diffs = {r.name: changed_paths(r.inputs, v2.get(r.type, r.name).inputs) for r in custom(v1)}
    assert {name: paths for name, paths in diffs.items() if paths} == {
        "szde2e-real": ["taskSpec.containerSpec.image"],
        "szde2e-backup": ["taskSpec.containerSpec.image"],
    }
