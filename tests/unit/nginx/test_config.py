"""The nginx config the program mounts, directive by directive."""

from __future__ import annotations

from nginx.config import render_nginx_config
from standins.mock_program import run_stack
from tests.support.nginx_configs import settings_config_args, stack_settings
from tools.render_nginx import nginx_config


def directives(config: str) -> list[str]:
    """Non-blank, non-comment lines, stripped: what nginx actually reads."""
    return [line.strip() for line in config.splitlines() if line.strip() and not line.strip().startswith("#")]


def expected(real: str, backup: str | None, tries: int) -> list[str]:
    backup_lines = [f"server {backup}:8080 resolve max_fails=1 fail_timeout=2s backup;"] if backup else []
    return [
        "resolver 127.0.0.11 valid=1s ipv6=off;",
        "log_format upstream_log '$remote_addr [$time_local] \"$request\" $status $body_bytes_sent '",
        "'upstream=$upstream_addr upstream_status=$upstream_status '",
        "'request_time=$request_time';",
        "upstream app-server {",
        "zone app-server 64k;",
        "least_conn;",
        f"server {real}:8080 resolve max_fails=1 fail_timeout=2s;",
        *backup_lines,
        "}",
        "server {",
        "listen 80;",
        "server_tokens off;",
        "access_log /var/log/nginx/access.log upstream_log;",
        "proxy_connect_timeout 1s;",
        "proxy_next_upstream error timeout http_502 http_503;",
        f"proxy_next_upstream_tries {tries};",
        "proxy_next_upstream_timeout 10s;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header Host $host;",
        "location = /nginx-health {",
        "access_log off;",
        'if ($remote_addr != "127.0.0.1") {',
        "return 403;",
        "}",
        "default_type text/plain;",
        'return 200 "ok\\n";',
        "}",
        "location / {",
        "proxy_pass http://app-server;",
        "error_page 502 = @fresh_peers;",
        "}",
        "location @fresh_peers {",
        "if ($request_method !~ ^(GET|HEAD)$) {",
        "return 502;",
        "}",
        "proxy_pass http://app-server;",
        "}",
        "}",
    ]


def test_dev_resolves_every_task_of_both_pools(dev):
    assert directives(nginx_config(dev)) == expected("tasks.webapp-real", "tasks.webapp-backup", tries=3)


def test_prod_with_vip_resolves_the_service_names(prod):
    assert directives(nginx_config(prod)) == expected("webapp-real", "webapp-backup", tries=5)


def test_without_backup_pool_there_is_no_backup_server():
    program = run_stack("dev", overrides={"backupEnabled": False})
    assert directives(nginx_config(program)) == expected("tasks.webapp-real", None, tries=3)


def test_failover_tuning_reaches_the_template():
    program = run_stack(
        "dev",
        overrides={
            "appName": "shop",
            "appPort": 9000,
            "nginxMaxFails": 3,
            "nginxFailTimeout": "1m",
            "nginxConnectTimeout": "500ms",
            "nginxResolverValid": "5s",
            "nginxNextUpstreamTries": 4,
            "nginxNextUpstreamTimeout": "1m30s",
        },
    )
    lines = directives(nginx_config(program))
    assert "resolver 127.0.0.11 valid=5s ipv6=off;" in lines
    assert "server tasks.shop-real:9000 resolve max_fails=3 fail_timeout=60s;" in lines
    assert "server tasks.shop-backup:9000 resolve max_fails=3 fail_timeout=60s backup;" in lines
    assert "proxy_connect_timeout 500ms;" in lines
    assert "proxy_next_upstream_tries 4;" in lines
    assert "proxy_next_upstream_timeout 90s;" in lines


def test_post_is_never_retried_once_sent(stack_program):
    # non_idempotent would let nginx replay a POST that a dying task had received.
    assert not any("non_idempotent" in line for line in directives(nginx_config(stack_program)))


def test_rendering_from_settings_matches_what_the_program_mounts(dev):
    # Tests that render configs straight from settings see the same file.
    assert render_nginx_config(settings_config_args(stack_settings("dev"))) == nginx_config(dev)
