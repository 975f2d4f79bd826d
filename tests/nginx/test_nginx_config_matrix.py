"""Every nginx config the program can render is accepted by a real nginx 1.30 and by gixy:
the L7 tier's and the edge's.

Each config is what the real Pulumi program mounts for a stack (run under mocks,
`nginx_config(run_stack(stack, overrides, secrets))`), unchanged; stacks with TLS
get a throw-away certificate, written where the L7 tier finds it in the rootfs: the resolver stays
Docker's 127.0.0.11 and the names stay `tasks.webapp-real` etc. `nginx -t` runs in
an empty network namespace, so no name can resolve and nothing can be reached:
nginx 1.30 accepts the config because every upstream server has `resolve`, which
defers resolution to run time (the last tests prove that is what makes it pass).
"""

from __future__ import annotations

import itertools
import json
import subprocess
from typing import Any

import pytest

from offline_runner.mock_program import run_stack
from tests.support.nginx_chroot import NginxInstall, NginxSandbox
from tests.support.nginx_configs import program_config
from tests.support.tls import IssuedCertificate
from tools.render_nginx import edge_config, nginx_config

# Not a config key: the case deploys a certificate (tlsCertificate and tlsKey, as secrets).
TLS = "(tls)"
# (stack, overrides): every option that changes the template, at its edges.
MATRIX: list[tuple[str, dict[str, Any]]] = [
    ("dev", {}),
    ("prod", {}),
    *[
        ("dev", {"endpointMode": mode, "backupEnabled": backup, "publishMode": publish})
        for mode, backup, publish in itertools.product(("dnsrr", "vip"), (True, False), ("host", "ingress"))
    ],
    ("prod", {"backupEnabled": False}),
    ("prod", {"endpointMode": "dnsrr", "publishMode": "host"}),
    ("dev", {"nginxFailTimeout": "1s"}),
    ("dev", {"nginxFailTimeout": "1m"}),
    ("dev", {"nginxFailTimeout": "1h"}),
    ("dev", {"nginxConnectTimeout": "500ms"}),
    ("dev", {"nginxConnectTimeout": "2s"}),
    ("dev", {"nginxConnectTimeout": "1m15s"}),
    ("dev", {"nginxResolverValid": "1s"}),
    ("dev", {"nginxResolverValid": "30s"}),
    ("dev", {"nginxResolverValid": "1h"}),
    ("dev", {"nginxNextUpstreamTries": 100, "nginxNextUpstreamTimeout": "500ms"}),
    # The app's timeouts are at least the retry window (settings/nginx.py).
    (
        "dev",
        {
            "nginxNextUpstreamTries": 3,
            "nginxNextUpstreamTimeout": "1h",
            "nginxReadTimeout": "1h",
            "nginxSendTimeout": "1h",
        },
    ),
    ("dev", {"backupEnabled": False, "nginxNextUpstreamTries": 1, "nginxMaxFails": 100}),
    ("dev", {"nginxMaxFails": 1, "nginxFailTimeout": "10s", "nginxConnectTimeout": "1ms"}),
    ("dev", {"appName": "a" + "b" * 31, "appPort": 1}),
    ("dev", {"appName": "x", "appPort": 65535, "endpointMode": "vip"}),
    ("dev", {"publicHost": "app.example.com"}),
    ("dev", {"publicHost": "192.168.10.20"}),
    ("dev", {"overlaySubnet": "172.16.0.0/16"}),
    ("dev", {TLS: True}),
    ("dev", {TLS: True, "httpsPort": 8443, "publicHost": "app.example.com"}),
    ("prod", {TLS: True}),
    ("dev", {TLS: True, "clientTimeout": "1s", "clientConnectionsPerAddress": 1}),
    ("dev", {TLS: True, "clientTimeout": "1500ms", "clientConnectionsPerAddress": 0}),
    ("dev", {TLS: True, "clientTimeout": "10m", "clientConnectionsPerAddress": 65535}),
    ("dev", {"requestBodyMaxSize": "0", "websocketIdleTimeout": "1s", "responseBuffering": False}),
    ("dev", {TLS: True, "requestBodyMaxSize": "100g", "websocketIdleTimeout": "1h", "http2": False}),
    ("dev", {"nginxNextUpstreamTimeout": "1s", "nginxReadTimeout": "1s", "nginxSendTimeout": "1500ms"}),
]

# gixy findings of medium or high severity that are accepted, by plugin, with why.
# Empty: every such finding is a defect of the template to fix, not to explain away.
EXPLAINED_GIXY_FINDINGS: dict[str, str] = {}


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    stack, overrides = case
    return stack + "".join(f"-{k}={v}" for k, v in overrides.items())


def render(case: tuple[str, dict[str, Any]], certificate: IssuedCertificate) -> tuple[str, str]:
    """(L7 tier config, edge config) the program mounts for a case."""
    stack, overrides = case
    keys = {k: v for k, v in overrides.items() if k != TLS}
    program = run_stack(stack, keys, secrets=certificate.secrets if overrides.get(TLS) else None)
    return nginx_config(program), edge_config(program)


@pytest.fixture(scope="module")
def rendered_pairs(certificate: IssuedCertificate) -> dict[str, tuple[str, str]]:
    return {case_id(case): render(case, certificate) for case in MATRIX}


@pytest.fixture(scope="module")
def rendered(rendered_pairs) -> dict[str, str]:
    """case id -> the L7 tier's config the program mounts."""
    return {case: pair[0] for case, pair in rendered_pairs.items()}


@pytest.fixture(scope="module")
def rendered_edges(rendered_pairs) -> dict[str, str]:
    """distinct edge configs -> the first case id that renders each."""
    edges: dict[str, str] = {}
    for case, (_, edge) in rendered_pairs.items():
        edges.setdefault(edge, case)
    return edges


@pytest.fixture
def sandbox(nginx_install: NginxInstall):
    with NginxSandbox(nginx_install) as box:
        yield box


@pytest.mark.parametrize("case", MATRIX, ids=case_id)
def test_real_nginx_accepts_the_config(case, rendered, sandbox: NginxSandbox):
    sandbox.write(rendered[case_id(case)])
    result = sandbox.check()
    config = rendered[case_id(case)]
    assert result.ok, f"nginx -t rejected the config for {case_id(case)}:\n{result.output}\n--- config ---\n{config}"
    assert "test is successful" in result.output


def test_real_nginx_accepts_every_edge_config(rendered_edges, sandbox: NginxSandbox):
    # The edge's config is a whole nginx.conf: with TLS it loads the stream module.
    assert len(rendered_edges) >= 3, "with and without TLS, for more than one L7 tier name"
    for edge, case in rendered_edges.items():
        sandbox.write_main(edge)
        result = sandbox.check()
        assert result.ok, f"nginx -t rejected the edge config of {case}:\n{result.output}\n--- config ---\n{edge}"


def test_gixy_finds_nothing_in_any_edge_config(rendered_edges, sandbox: NginxSandbox, gixy: str):
    for edge, case in rendered_edges.items():
        findings = gixy_findings(gixy, sandbox, edge, main=True)
        serious = [f for f in findings if str(f.get("severity", "")).upper() in ("MEDIUM", "HIGH")]
        assert not serious, f"gixy findings in the edge config of {case}:\n" + "\n".join(map(describe, serious))


def gixy_findings(gixy: str, sandbox: NginxSandbox, config: str, main: bool = False) -> list[dict[str, Any]]:
    if main:
        sandbox.write_main(config)
        target = sandbox.site_path
    else:
        sandbox.write(config)
        target = sandbox.host_dir / "gixy.conf"
        # gixy follows includes by host path, so it gets a wrapper of its own.
        target.write_text(f"events {{}}\nhttp {{\n    include {sandbox.site_path};\n}}\n")
    run = subprocess.run(
        [gixy, "--format", "json", str(target)], capture_output=True, text=True, timeout=60, check=False
    )
    assert "File not found" not in run.stderr, f"gixy did not read the generated file:\n{run.stderr}"
    try:
        findings = json.loads(run.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"gixy printed no JSON (exit {run.returncode}):\n{run.stdout}\n{run.stderr}") from exc
    assert isinstance(findings, list), findings
    return findings


def describe(finding: dict[str, Any]) -> str:
    return (
        f"[{finding.get('severity')}] {finding.get('plugin')}: {finding.get('summary')}\n"
        f"  reason: {finding.get('reason')}\n  line {finding.get('line')}:{finding.get('config')}"
    )


@pytest.mark.parametrize("case", MATRIX, ids=case_id)
def test_gixy_finds_nothing_of_medium_or_high_severity(case, rendered, sandbox: NginxSandbox, gixy: str):
    findings = gixy_findings(gixy, sandbox, rendered[case_id(case)])
    serious = [f for f in findings if str(f.get("severity", "")).upper() in ("MEDIUM", "HIGH")]
    unexplained = [f for f in serious if f.get("plugin") not in EXPLAINED_GIXY_FINDINGS]
    assert not unexplained, "gixy findings to fix in nginx/l7_tier.conf.j2:\n" + "\n".join(map(describe, unexplained))


def test_gixy_does_report_a_known_bad_config(sandbox: NginxSandbox, gixy: str):
    # The check above proves something only if gixy really reads the generated file.
    bad = program_config("dev").replace(
        "proxy_set_header Host $host;", "proxy_set_header Host $http_host;\n        add_header X-Debug $http_x_debug;"
    )
    findings = gixy_findings(gixy, sandbox, bad)
    assert findings, "gixy reported nothing for a config with $http_host and a header echoed from the request"


def test_matrix_options_reach_the_template(rendered):
    # Guards against a matrix that silently renders one file many times.
    assert len(set(rendered.values())) >= 20, f"only {len(set(rendered.values()))} distinct configs"


def test_nginx_t_rejects_what_real_nginx_rejects(sandbox: NginxSandbox):
    # The harness proves something only if a bad config fails: `backup` is not
    # supported by the hash balancer (a documented nginx restriction).
    config = program_config("dev").replace("least_conn;", "hash $remote_addr;")
    sandbox.write(config)
    result = sandbox.check()
    assert not result.ok, f"nginx -t accepted a config it must reject:\n{result.output}"
    assert "does not support parameter" in result.output or "backup" in result.output, result.output


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_pool_names_do_not_resolve_here_and_resolve_is_what_makes_nginx_accept_them(stack, sandbox: NginxSandbox):
    # The same config without `resolve` makes nginx resolve the names at start, as
    # nginx < 1.27.3 would: in the empty network namespace they cannot resolve,
    # just as Docker's names (tasks.webapp-real, webapp-real) do not on the host.
    config = program_config(stack)
    without_resolve = config.replace(" resolve ", " ")
    assert without_resolve != config
    sandbox.write(without_resolve)
    result = sandbox.check()
    assert not result.ok, f"nginx -t accepted unresolvable upstream names without `resolve`:\n{result.output}"
    assert "host not found in upstream" in result.output, result.output
