"""The nginx config the program mounts, directive by directive."""

from __future__ import annotations

import pytest

from offline_runner.mock_program import run_stack
from swarm_zero_downtime.nginx.l7_tier import render_l7_tier_config
from tests.support.nginx_configs import settings_config_args, stack_settings
from tests.support.tls import issue
from tools.render_nginx import nginx_config


def directives(config: str) -> list[str]:
    """Non-blank, non-comment lines, stripped: what nginx actually reads."""
    return [line.strip() for line in config.splitlines() if line.strip() and not line.strip().startswith("#")]


# The default clientTimeout (30s) plus the margin that lets the edge give up first.
BEHIND_EDGE_TIMEOUTS = [
    "client_header_timeout 32s;",
    "client_body_timeout 32s;",
    "send_timeout 32s;",
    "keepalive_timeout 30s;",
    "keepalive_min_timeout 1s;",
    "reset_timedout_connection on;",
]


def expected(real: str, backup: str | None, tries: int, server_name: str | None = None) -> list[str]:
    backup_lines = [f"server {backup}:8080 resolve max_fails=1 fail_timeout=2s backup;"] if backup else []
    refuse_others = (
        [
            "server {",
            "listen 80 default_server;",
            "server_tokens off;",
            "access_log /var/log/nginx/access.log upstream_log buffer=64k flush=1s;",
            *BEHIND_EDGE_TIMEOUTS,
            "return 421;",
            "}",
        ]
        if server_name
        else []
    )
    return [
        "resolver 127.0.0.11 valid=1s ipv6=off;",
        *(["server_names_hash_bucket_size 64;"] if server_name else []),
        "set_real_ip_from 10.241.0.0/24;",
        "map $request_method $upstream_connection {",
        'GET "";',
        'HEAD "";',
        "default close;",
        "}",
        "map $http_upgrade $connection_upgrade {",
        "default upgrade;",
        '"" $upstream_connection;',
        "}",
        "log_format upstream_log '$remote_addr [$time_local] \"$request\" $status $body_bytes_sent '",
        "'upstream=$upstream_addr upstream_status=$upstream_status '",
        "'request_time=$request_time';",
        "upstream app-server {",
        "zone app-server 64k;",
        "least_conn;",
        f"server {real}:8080 resolve max_fails=1 fail_timeout=2s;",
        *backup_lines,
        "keepalive_timeout 1s;",
        "}",
        "server {",
        "listen 127.0.0.1:8081;",
        "server_tokens off;",
        "access_log off;",
        "location = /nginx-health {",
        "default_type text/plain;",
        'return 200 "ok\\n";',
        "}",
        "}",
        *refuse_others,
        "server {",
        "listen 80;",
        *BEHIND_EDGE_TIMEOUTS,
        *([f"server_name {server_name};"] if server_name else []),
        "server_tokens off;",
        "access_log /var/log/nginx/access.log upstream_log buffer=64k flush=1s;",
        "client_max_body_size 1m;",
        "proxy_connect_timeout 1s;",
        "proxy_read_timeout 60s;",
        "proxy_send_timeout 60s;",
        "proxy_buffering on;",
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_next_upstream error timeout;",
        f"proxy_next_upstream_tries {tries};",
        "proxy_next_upstream_timeout 10s;",
        "proxy_socket_keepalive on;",
        "proxy_buffer_size 32k;",
        "proxy_buffers 10 4k;",
        "proxy_busy_buffers_size 32k;",
        "proxy_set_header X-Real-IP $remote_addr;",
        "proxy_set_header X-Forwarded-For $remote_addr;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "proxy_set_header Host $host;",
        "proxy_set_header X-Forwarded-Host $host;",
        *(
            f'proxy_set_header {name} "";'
            for name in (
                "X-Forwarded-Port",
                "Forwarded",
                "X-Original-URL",
                "X-Rewrite-URL",
                "X-Forwarded-Prefix",
                "X-Forwarded-Server",
                "X-Host",
                "True-Client-IP",
                "X-Client-IP",
                "X-Cluster-Client-IP",
            )
        ),
        "location / {",
        "proxy_pass http://app-server;",
        "limit_except GET {",
        "proxy_pass http://app-server;",
        "}",
        "error_page 502 = @fresh_peers;",
        "error_page 418 = @upgrade;",
        "if ($http_upgrade) {",
        "return 418;",
        "}",
        "}",
        "location @upgrade {",
        "proxy_pass http://app-server;",
        "proxy_read_timeout 600s;",
        "proxy_send_timeout 600s;",
        "}",
        "location @fresh_peers {",
        "if ($request_method !~ ^(GET|HEAD)$) {",
        "return 502;",
        "}",
        'if ($upstream_bytes_received ~ "[1-9][0-9]*$") {',
        "return 502;",
        "}",
        "proxy_pass http://app-server;",
        "}",
        "}",
    ]


def test_dev_resolves_every_task_of_both_pools_and_serves_any_host(dev):
    assert directives(nginx_config(dev)) == expected("tasks.webapp-real", "tasks.webapp-backup", tries=3)


def test_prod_with_vip_resolves_the_service_names_and_serves_only_its_host(prod):
    assert directives(nginx_config(prod)) == expected(
        "webapp-real", "webapp-backup", tries=5, server_name="app.example.com"
    )


def test_without_backup_pool_there_is_no_backup_server():
    program = run_stack("dev", overrides={"backupEnabled": False})
    assert directives(nginx_config(program)) == expected("tasks.webapp-real", None, tries=3)


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "192.168.1.10"])
def test_this_machine_or_an_address_serves_every_host(host):
    lines = directives(nginx_config(run_stack("dev", overrides={"publicHost": host})))
    assert not any(line.startswith("server_name") or "421" in line for line in lines)


def test_a_long_public_host_gets_a_hash_bucket_it_fits_in():
    # 47 characters: one more than nginx's default bucket of 64 bytes holds.
    host = "my-service.eu-central-1.staging.internal.ex.com"
    lines = directives(nginx_config(run_stack("dev", overrides={"publicHost": host})))
    assert "server_names_hash_bucket_size 128;" in lines


def test_app_errors_do_not_count_as_task_failures(stack_program):
    # http_502/http_503 in proxy_next_upstream would count towards max_fails:
    # one request to a path that answers 503 would eject every healthy task.
    (line,) = [line for line in directives(nginx_config(stack_program)) if line.startswith("proxy_next_upstream ")]
    assert line == "proxy_next_upstream error timeout;"


def test_with_tls_plain_http_redirects_and_443_takes_the_proxy_protocol():
    certificate = issue("app.example.com")
    program = run_stack(
        "dev", overrides={"publicHost": "app.example.com", "httpsPort": 8443}, secrets=certificate.secrets
    )
    text = nginx_config(program)
    lines = directives(text)
    assert "return 301 https://$host:8443$request_uri;" in lines
    assert lines.count("listen 443 ssl proxy_protocol;") == 1
    assert "listen 443 ssl default_server proxy_protocol;" in lines
    assert "ssl_reject_handshake on;" in lines
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in lines
    assert lines.count("real_ip_header proxy_protocol;") == 2
    assert "ssl_certificate /run/secrets/tls.pem;" in lines
    assert 'add_header Strict-Transport-Security "max-age=31536000" always;' in lines
    assert all("TLSv1.1" not in line and "TLSv1 " not in line for line in lines)
    # The key's content never reaches the config, only its path.
    assert "PRIVATE KEY" not in text


@pytest.mark.parametrize(("drain", "lifetime"), [("0s", None), ("1s", "500ms"), ("4s", "2s"), ("5m", "150s")])
def test_with_tls_a_draining_edge_bounds_how_long_each_tls_connection_is_reused(drain, lifetime):
    # Both TLS servers end a client's connection: the site's and the one refusing other hosts.
    program = run_stack(
        "dev",
        overrides={"publicHost": "app.example.com", "edgeDrain": drain, "stopGracePeriod": "10m"},
        secrets=issue("app.example.com").secrets,
    )
    lines = directives(nginx_config(program))
    expected = [] if lifetime is None else [f"keepalive_time {lifetime};"] * 2
    assert [line for line in lines if line.startswith("keepalive_time ")] == expected


def test_without_tls_a_draining_edge_leaves_the_l7_tiers_connections_alone():
    program = run_stack("dev", overrides={"edgeDrain": "4s", "stopGracePeriod": "30s"})
    assert not [line for line in directives(nginx_config(program)) if line.startswith("keepalive_time ")]


def test_redirect_to_the_default_https_port_names_no_port():
    program = run_stack("dev", secrets=issue("localhost").secrets)
    assert "return 301 https://$host$request_uri;" in directives(nginx_config(program))


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
            # At least the retry window, or a timed-out request would be retried.
            "nginxReadTimeout": "2m",
            "nginxSendTimeout": "90s",
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
    assert render_l7_tier_config(settings_config_args(stack_settings("dev"))) == nginx_config(dev)


def test_render_nginx_prints_the_l7_config_then_the_edge_config(capsys):
    from tools.render_nginx import main

    main(["dev"])
    out = capsys.readouterr().out
    l7, edge = out.split("# ---- edge: /etc/nginx/nginx.conf\n")
    assert l7.startswith("# ---- L7 tier: /etc/nginx/conf.d/default.conf\n")
    assert "upstream app-server" in l7 and "upstream l7-tier" in edge
