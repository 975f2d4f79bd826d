"""Every invalid stack config value fails the program with a message naming the key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from offline_runner.mock_program import run_stack
from offline_runner.stack_config import REPO_ROOT, StackConfigError
from swarm_zero_downtime.settings import SettingsError

KEY = "swarm-zero-downtime:"

CASES: list[tuple[dict[str, object], str, str]] = [
    # (overrides, key, fragment of the message)
    ({"realReplicas": 0}, "realReplicas", "'0' must be a whole number from 1 to 100"),
    ({"realReplicas": "two"}, "realReplicas", "'two' must be a whole number from 1 to 100"),
    ({"backupReplicas": -1}, "backupReplicas", "'-1' must be a whole number from 1 to 100"),
    ({"nginxReplicas": 1}, "nginxReplicas", "must be a whole number from 2 to 100"),
    ({"overlaySubnet": "8.8.8.0/24"}, "overlaySubnet", "must be a private IPv4 network in CIDR form"),
    ({"overlaySubnet": "10.0.0.1/24"}, "overlaySubnet", "host bits must be zero"),
    ({"edgeSubnet": "100.64.0.0/24"}, "edgeSubnet", "must be a private IPv4 network in CIDR form"),
    ({"edgeSubnet": "10.240.0.0/24"}, "edgeSubnet", "overlaps overlaySubnet 10.240.0.0/24"),
    ({"edgeImage": "Nginx"}, "edgeImage", "must be an image reference"),
    ({"edgeDrain": "500ms"}, "edgeDrain", "'500ms' must be a duration from 0s to 5m such as 10s"),
    ({"edgeDrain": "6m"}, "edgeDrain", "must be a duration from 0s to 5m such as 10s, 500ms or 1m30s (units: s, m)"),
    ({"edgeDrain": "-5s"}, "edgeDrain", "must be a duration from 0s to 5m"),
    (
        {"edgeDrain": "10s"},
        "edgeDrain",
        "10s and the edge's 1s to close its connections do not fit in stopGracePeriod (10s): Swarm would kill"
        " the edge mid-drain; stopGracePeriod must be at least 11s (at least 19s to leave it time before"
        " pulumi-docker's delete deadline), or edgeDrain at most 9s",
    ),
    ({"edgeDrain": "5s", "publishMode": "ingress"}, "edgeDrain", "5s needs publishMode host"),
    ({"spreadOver": "zone a"}, "spreadOver", "must be empty, or a node label key"),
    ({"updateParallelism": 3}, "updateParallelism", "3 is above realReplicas (2); must be between 1 and 2"),
    ({"rollbackParallelism": 0}, "rollbackParallelism", "must be a whole number from 1 to 100"),
    (
        {"updateDelay": "ten seconds"},
        "updateDelay",
        "'ten seconds' must be a duration from 0s to 1h such as 10s, 500ms or 1m30s",
    ),
    ({"updateDelay": "10"}, "updateDelay", "must be a duration"),
    ({"updateDelay": "1.5s"}, "updateDelay", "must be a duration"),
    ({"stopGracePeriod": "1m30"}, "stopGracePeriod", "must be a duration"),
    ({"healthCheckInterval": "0s"}, "healthCheckInterval", "must be a duration from 1ms to 10m"),
    ({"convergeTimeout": "forever"}, "convergeTimeout", "must be a duration from 1s to 24h"),
    ({"nginxFailTimeout": "500ms"}, "nginxFailTimeout", "(units: s, m, h)"),
    ({"nginxResolverValid": "1500ms"}, "nginxResolverValid", "(units: s, m, h)"),
    ({"nginxConnectTimeout": "10us"}, "nginxConnectTimeout", "(units: ms, s, m, h)"),
    ({"nginxNextUpstreamTimeout": "0s"}, "nginxNextUpstreamTimeout", "must be a duration from 1ms to 1h"),
    ({"clientTimeout": "500ms"}, "clientTimeout", "'500ms' must be a duration from 1s to 10m"),
    ({"clientTimeout": "1h"}, "clientTimeout", "must be a duration from 1s to 10m"),
    ({"clientTimeout": "30"}, "clientTimeout", "must be a duration"),
    (
        {"clientConnectionsPerAddress": -1},
        "clientConnectionsPerAddress",
        "'-1' must be a whole number from 0 to 65535",
    ),
    ({"clientConnectionsPerAddress": "many"}, "clientConnectionsPerAddress", "must be a whole number from 0 to 65535"),
    (
        {"requestBodyMaxSize": "1.5m"},
        "requestBodyMaxSize",
        "'1.5m' must be a size from 0 to 100g such as 1m, 512k or 1048576",
    ),
    ({"requestBodyMaxSize": "1t"}, "requestBodyMaxSize", "must be a size from 0 to 100g"),
    ({"requestBodyMaxSize": "101g"}, "requestBodyMaxSize", "must be a size from 0 to 100g"),
    ({"requestBodyMaxSize": "-1"}, "requestBodyMaxSize", "must be a size from 0 to 100g"),
    ({"nginxReadTimeout": "500ms"}, "nginxReadTimeout", "must be a duration from 1s to 1h"),
    ({"nginxSendTimeout": "2h"}, "nginxSendTimeout", "must be a duration from 1s to 1h"),
    ({"websocketIdleTimeout": "0s"}, "websocketIdleTimeout", "must be a duration from 1s to 1h"),
    (
        {"nginxReadTimeout": "5s"},
        "nginxReadTimeout",
        "5s is shorter than nginxNextUpstreamTimeout (10s): a request that times out waiting on the app",
    ),
    ({"nginxSendTimeout": "9s"}, "nginxSendTimeout", "must be at least 10s (or lower nginxNextUpstreamTimeout)"),
    ({"responseBuffering": "off"}, "responseBuffering", "'off' must be true or false"),
    ({"http2": "yes"}, "http2", "'yes' must be true or false"),
    ({"imageTag": "v1 ; rm"}, "imageTag", "'v1 ; rm' must be an image tag"),
    ({"imageTag": ".hidden"}, "imageTag", "must be an image tag"),
    ({"imageTag": "x" * 129}, "imageTag", "must be an image tag"),
    ({"appImage": "Windowforsun/Test-Web"}, "appImage", "must be an image repository"),
    ({"appImage": "windowforsun/test-web:v1"}, "appImage", "without tag or digest (set the tag in imageTag)"),
    ({"appImage": "web app"}, "appImage", "must be an image repository"),
    ({"nginxImage": "nginx latest"}, "nginxImage", "must be an image reference"),
    ({"nginxImage": "nginx:"}, "nginxImage", "must be an image reference"),
    ({"appPort": 0}, "appPort", "must be a whole number from 1 to 65535"),
    ({"publishedPort": 65536}, "publishedPort", "must be a whole number from 1 to 65535"),
    ({"updateOrder": "random"}, "updateOrder", "'random' must be one of: start-first, stop-first"),
    ({"rollbackOrder": "both"}, "rollbackOrder", "must be one of: start-first, stop-first"),
    ({"updateFailureAction": "explode"}, "updateFailureAction", "must be one of: rollback, pause, continue"),
    ({"rollbackFailureAction": "rollback"}, "rollbackFailureAction", "must be one of: pause, continue"),
    ({"endpointMode": "ipvs"}, "endpointMode", "'ipvs' must be one of: dnsrr, vip"),
    ({"publishMode": "mesh"}, "publishMode", "'mesh' must be one of: ingress, host"),
    ({"backupEnabled": "yes"}, "backupEnabled", "'yes' must be true or false"),
    (
        {"updateMonitor": "5s"},
        "updateMonitor",
        "'5s' is shorter than healthCheckStartPeriod + (healthCheckInterval + healthCheckTimeout) x healthCheckRetries (22s)",
    ),
    ({"rollbackMonitor": "21s"}, "rollbackMonitor", "must be at least 22s"),
    ({"nginxNextUpstreamTries": 2}, "nginxNextUpstreamTries", "must be at least 3 (real peers + 1"),
    ({"nginxMaxFails": 0}, "nginxMaxFails", "must be a whole number from 1 to 100"),
    ({"healthCheckPath": "/health;reboot"}, "healthCheckPath", "must be an absolute URL path"),
    ({"healthCheckPath": "healthcheck"}, "healthCheckPath", "must be an absolute URL path"),
    ({"appName": "Web_App"}, "appName", "must be a DNS label"),
    ({"appName": "a" * 33}, "appName", "at most 32 characters"),
    ({"publicHost": "app example.com"}, "publicHost", "must be a host name"),
    # Values that once passed validation and broke a deploy.
    ({"nginxFailTimeout": "99999999999999h"}, "nginxFailTimeout", "must be a duration from 1s to 1h"),
    ({"healthCheckInterval": "1ns"}, "healthCheckInterval", "must be a duration from 1ms to 10m"),
    ({"stopGracePeriod": "1" + "0" * 400 + "s"}, "stopGracePeriod", "must be a duration from 0s to 1h"),
    ({"stopGracePeriod": "\u0663s"}, "stopGracePeriod", "must be a duration from 0s to 1h"),
    ({"appPort": "\uff18\uff10\uff18\uff10"}, "appPort", "must be a whole number from 1 to 65535"),
    ({"realReplicas": "9" * 5000}, "realReplicas", "must be a whole number from 1 to 100"),
    ({"imageTag": "v\u00e9"}, "imageTag", "must be an image tag"),
    ({"appImage": "Registry/app"}, "appImage", "must be an image repository such as"),
    ({"appEnv": {"LOG-LEVEL": "x"}}, "appEnv", "entry 'LOG-LEVEL': must be a map of environment variable names"),
    ({"appEnv": {"1ST": "x"}}, "appEnv", "entry '1ST': must be a map"),
    ({"appEnv": {"A": {"nested": 1}}}, "appEnv", "entry A: the value must be text, a number or true/false"),
    ({"appEnv": {"A": None}}, "appEnv", "entry A: the value must be text"),
    ({"appEnv": {"A": "x\u0000y"}}, "appEnv", "entry A: the value must be text"),
    ({"appEnv": ["A=1"]}, "appEnv", "must be a map of environment variable names"),
    ({"appEnv": "A=1"}, "appEnv", "'A=1' must be a map of environment variable names"),
    ({"appEnv": {f"K{i}": "v" for i in range(201)}}, "appEnv", "this has 201 entries"),
    ({"appEnv": {"A": "x" * 70000}}, "appEnv", "this is 70009 characters"),
    ({"appEnv": "[" * 5000 + "]" * 5000}, "appEnv", "must be a map of environment variable names"),
    ({"appCommand": "puma -C config.rb"}, "appCommand", "must be a list of words"),
    ({"appCommand": ["puma", ["-p"]]}, "appCommand", "word 1: must be a list of words"),
    ({"appArgs": {"a": "b"}}, "appArgs", "must be a list of words"),
    ({"releaseCommand": "bin/rails db:migrate"}, "releaseCommand", "must be a list of words such as"),
    ({"releaseCommand": ["bin/migrate", {"to": 3}]}, "releaseCommand", "word 1: must be a list of words"),
    ({"releaseCommand": ["bin/migrate", "x\u0000"]}, "releaseCommand", "or [] for no release step"),
    ({"releaseCommand": ["x"] * 201}, "releaseCommand", "this has 201 entries"),
    ({"releaseTimeout": "0s"}, "releaseTimeout", "'0s' must be a duration from 1s to 6h"),
    ({"releaseTimeout": "7h"}, "releaseTimeout", "must be a duration from 1s to 6h"),
    ({"appStopSignal": "SIGKILL"}, "appStopSignal", "must be empty (the image's STOPSIGNAL, else SIGTERM) or one of"),
    ({"appStopSignal": "TERM"}, "appStopSignal", "SIGTERM, SIGINT, SIGQUIT"),
]


@pytest.mark.parametrize(
    "overrides,key,fragment", CASES, ids=[f"{c[1]}={str(next(iter(c[0].values())))[:20]}" for c in CASES]
)
def test_bad_value_names_key_value_and_allowed(overrides, key, fragment):
    with pytest.raises(SettingsError) as error:
        run_stack("dev", overrides=overrides)
    (problem,) = error.value.problems
    assert problem.startswith(f"{KEY}{key}: "), problem
    assert fragment in problem


def test_a_secret_environment_is_refused_without_showing_it():
    with pytest.raises(SettingsError) as error:
        run_stack("dev", secrets={"appEnv": '{"DATABASE_URL": "postgres://app:hunter2@db/app"}'})
    (problem,) = error.value.problems
    assert problem.startswith(f"{KEY}appEnv: holds a secret: environment variables are stored in plain text")
    assert "hunter2" not in problem


def test_slower_health_check_needs_longer_monitors():
    with pytest.raises(SettingsError) as error:
        run_stack("dev", overrides={"healthCheckRetries": 10})
    assert [p.split(": ")[0] for p in error.value.problems] == [f"{KEY}updateMonitor", f"{KEY}rollbackMonitor"]
    assert all("must be at least 50s" in p for p in error.value.problems)


@pytest.mark.parametrize(
    "overrides",
    [
        {"updateDelay": "1m30s"},
        {"updateParallelism": 2},
        {"nginxConnectTimeout": "500ms"},
        {"nginxNextUpstreamTries": 2, "endpointMode": "vip"},
        {"nginxNextUpstreamTries": 1, "backupEnabled": False},
        {"appImage": "registry.example.com:5000/team/web-app"},
        {"nginxImage": "registry.example.com/nginx@sha256:" + "a" * 64},
        {"imageTag": "2026.11.26-rc_1"},
        {"appEnv": {"_X": "a=b", "DATABASE_HOST": "db.internal", "PORT": 5432, "FEATURE": True}},
        {"appCommand": ["/bin/sh", "-c", "exec app --port $PORT"], "appArgs": [], "appStopSignal": "SIGINT"},
        {"releaseCommand": ["bin/rails", "db:migrate", 3, True], "releaseTimeout": "6h"},
        # The drain and 1s of nginx's shutdown exactly fill the grace period.
        {"edgeDrain": "9s"},
        {"edgeDrain": "5m", "stopGracePeriod": "5m1s"},
        {"edgeDrain": "0s", "publishMode": "ingress"},
    ],
)
def test_good_values_pass(overrides):
    run_stack("dev", overrides=overrides)


def test_every_problem_is_reported_at_once():
    with pytest.raises(SettingsError) as error:
        run_stack("dev", overrides={"realReplicas": 0, "imageTag": "v1 ; rm", "updateDelay": "ten seconds"})
    keys = sorted(p.split(": ")[0] for p in error.value.problems)
    assert keys == [f"{KEY}imageTag", f"{KEY}realReplicas", f"{KEY}updateDelay"]


def test_unknown_key_in_the_project_namespace_is_an_error():
    with pytest.raises(StackConfigError, match="swarm-zero-downtime:imagetag: not a key of this project"):
        run_stack("dev", overrides={"imagetag": "v2"})


@pytest.fixture
def bad_stack():
    name = f"unit-bad-{os.getpid()}"
    path = REPO_ROOT / f"Pulumi.{name}.yaml"
    path.write_text(
        "config:\n"
        "  swarm-zero-downtime:realReplicas: 0\n"
        '  swarm-zero-downtime:imageTag: "v1 ; rm"\n'
        "  swarm-zero-downtime:updateDelay: ten seconds\n"
    )
    yield name
    path.unlink()


def validate(stack: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.validate", stack], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def test_validate_cli_lists_every_problem(bad_stack):
    result = validate(bad_stack)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"stack {bad_stack}: invalid"
    assert [line.split(": ")[0] for line in lines[1:]] == [f"{KEY}imageTag", f"{KEY}realReplicas", f"{KEY}updateDelay"]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_validate_cli_summarises_a_good_stack(stack):
    result = validate(stack)
    assert result.returncode == 0, result.stderr
    summary, *notes = result.stdout.splitlines()
    assert summary == (
        f"stack {stack}: valid; would declare 11 resources (2 Network, 3 RolloutGate, 4 Service, 2 ServiceConfig)"
        " in 7 components"
    )
    # Then what the preview shows next to each service: how each one rolls out.
    assert [note.split(":")[0] for note in notes] == [
        f"  rollout of the {service}" for service in ("real pool", "backup pool", "L7 nginx pool", "edge")
    ]
