"""Each section reader on its own, over the dev stack's config with a few keys changed."""

from __future__ import annotations

import pulumi
import pytest

from offline_runner.stack_config import load_stack_config, project_name
from swarm_zero_downtime.settings.app import AppSettings, read_app
from swarm_zero_downtime.settings.health import read_health
from swarm_zero_downtime.settings.nginx import check_nginx, read_nginx
from swarm_zero_downtime.settings.pools import PoolSettings, read_pools
from swarm_zero_downtime.settings.process import AppProcess
from swarm_zero_downtime.settings.reader import ConfigReader
from swarm_zero_downtime.settings.rollout import check_rollout, read_rollout


def reader(**overrides: object) -> ConfigReader:
    pulumi.runtime.set_all_config(load_stack_config("dev", overrides=overrides))
    return ConfigReader(pulumi.Config(project_name()))


def keys(r: ConfigReader) -> list[str]:
    return [problem.split(": ")[0].split(":")[-1] for problem in r.problems]


def test_app_section():
    r = reader(appName="shop", imageTag="v2", appPort=9000)
    app = read_app(r)
    assert app == AppSettings("shop", "windowforsun/test-web", "v2", 9000, "localhost", AppProcess())
    assert app.image == "windowforsun/test-web:v2"
    assert r.problems == []


def test_app_process_keys_keep_their_order_and_take_scalars_as_written():
    r = reader(
        appEnv={"LOG_LEVEL": "info", "WORKERS": 4, "DEBUG": False, "RATIO": 0.5, "EMPTY": ""},
        appCommand=["/usr/local/bin/app"],
        appArgs=["--port", "8080"],
        appStopSignal="SIGQUIT",
    )
    app = read_app(r)
    assert r.problems == []
    assert app is not None and app.process == AppProcess(
        env=(("LOG_LEVEL", "info"), ("WORKERS", "4"), ("DEBUG", "false"), ("RATIO", "0.5"), ("EMPTY", "")),
        command=("/usr/local/bin/app",),
        args=("--port", "8080"),
        stop_signal="SIGQUIT",
    )


def test_pools_section():
    r = reader(realReplicas=3, backupEnabled=False)
    pools = read_pools(r)
    assert isinstance(pools, PoolSettings)
    assert (pools.real_replicas, pools.backup_enabled, pools.endpoint_mode) == (3, False, "dnsrr")
    assert pools.converge_timeout.text == "5m"


def test_health_section():
    health = read_health(reader(healthCheckRetries=5))
    assert health is not None
    assert (health.path, health.retries, health.interval.text) == ("/healthcheck", 5, "2s")


def test_rollout_section_reads_its_prefix():
    r = reader(updateParallelism=2, rollbackParallelism=1)
    update = read_rollout(r, "update")
    assert update is not None and update.parallelism == 2 and update.failure_action == "rollback"


def test_nginx_section():
    nginx = read_nginx(reader(nginxConnectTimeout="500ms", publishedPort=8080))
    assert nginx is not None
    assert nginx.published_port == 8080 and nginx.upstream.connect_timeout.nginx == "500ms"


@pytest.mark.parametrize(
    "read, key, value",
    [
        (read_app, "appPort", "0"),
        (read_pools, "endpointMode", "ipvs"),
        (read_health, "healthCheckPath", "/a b"),
        (lambda r: read_rollout(r, "update"), "updateOrder", "random"),
        (read_nginx, "nginxFailTimeout", "500ms"),
    ],
)
def test_a_bad_key_leaves_the_section_unbuilt_and_is_named(read, key, value):
    r = reader(**{key: value})
    assert read(r) is None
    assert keys(r) == [key]


def test_rollout_rules_use_each_key_that_parsed_even_when_its_section_did_not():
    # updateDelay is bad, so no update section is built; the parallelism rule
    # still runs, so both problems show in one preview.
    r = reader(updateDelay="ten seconds", updateParallelism=3)
    assert read_rollout(r, "update") is None
    read_pools(r)
    check_rollout(r, "update")
    assert keys(r) == ["updateDelay", "updateParallelism"]


def test_monitor_rule_needs_every_health_timing():
    r = reader(updateMonitor="5s", healthCheckInterval="soon")
    read_health(r)
    read_rollout(r, "update")
    check_rollout(r, "update")
    assert keys(r) == ["healthCheckInterval"]


def test_nginx_tries_rule_follows_endpoint_mode_and_backup():
    for overrides, expected in (
        ({"nginxNextUpstreamTries": 2}, ["nginxNextUpstreamTries"]),
        ({"nginxNextUpstreamTries": 2, "endpointMode": "vip"}, []),
        ({"nginxNextUpstreamTries": 1, "backupEnabled": False}, []),
    ):
        r = reader(**overrides)
        read_pools(r)
        read_nginx(r)
        check_nginx(r)
        assert keys(r) == expected, overrides
