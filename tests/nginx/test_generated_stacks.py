"""Generated valid stack files: the nginx configs the program renders for each (the L7 tier's and
the edge's) pass real `nginx -t`.

The other half of the property (invalid stacks are refused naming each bad
key) is in tests/unit/settings/test_stack_properties.py; this one needs the
rootfs nginx 1.30.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.support.nginx_chroot import NginxInstall, NginxSandbox
from tests.support.stack_strategies import LONGEST_HOST, Written, stack_files, valid_value, write_stack
from tools.render_nginx import edge_config, nginx_config
from tools.validate import check_stack

# A stack with TLS names the certificate's path in the task: it must be there for `nginx -t`.
pytestmark = pytest.mark.usefixtures("certificate")
# Encrypted in the stack file: the program runs with its stand-in certificate (tools/validate.py).
TLS_ON = {key: Written("{secure: AAAA}", True) for key in ("tlsCertificate", "tlsKey")}
SLOW_EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


def assert_nginx_accepts(install: NginxInstall, values: dict[str, Written]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        program, problems = check_stack(write_stack(Path(tmp), values), Path(tmp))
    # Valid values can still break a rule that spans keys (e.g. parallelism above replicas).
    assume(program is not None)
    assert program is not None and not problems
    config, edge = nginx_config(program), edge_config(program)
    with NginxSandbox(install) as sandbox:
        sandbox.write(config)
        result = sandbox.check()
        assert result.ok, f"nginx -t rejected the config of {values}:\n{result.output}\n--- config ---\n{config}"
        sandbox.write_main(edge)
        result = sandbox.check()
        assert result.ok, f"nginx -t rejected the edge config of {values}:\n{result.output}\n--- config ---\n{edge}"


# Rules that span keys turn some valid values into an invalid stack; those are left out.
@SLOW_EXAMPLES
@given(values=stack_files(only_valid=True))
def test_every_valid_generated_stack_renders_a_config_nginx_accepts(nginx_install: NginxInstall, values):
    assert_nginx_accepts(nginx_install, values)


# A random stack sets publicHost in few examples; its length decides whether
# nginx can hash the server name, so it gets a property of its own.
@SLOW_EXAMPLES
@given(host=valid_value("publicHost"))
@example(host=Written(f'"{LONGEST_HOST}"', True).yaml)
def test_every_valid_public_host_renders_a_config_nginx_accepts(nginx_install: NginxInstall, host: str):
    assert_nginx_accepts(nginx_install, {"publicHost": Written(host, True)})


# The keys that bound slow clients reach both configs, the TLS stream's too:
# a random stack draws them in few examples and never turns TLS on. Four
# inputs, their bounds given as examples: fewer random draws than above.
@settings(SLOW_EXAMPLES, max_examples=15)
@given(
    timeout=valid_value("clientTimeout"),
    connections=valid_value("clientConnectionsPerAddress"),
    publish_mode=valid_value("publishMode"),
    tls=st.booleans(),
)
@example(timeout='"10m"', connections='"65535"', publish_mode='"host"', tls=True)
@example(timeout='"1s"', connections='"1"', publish_mode='"host"', tls=True)
def test_every_valid_client_limit_renders_configs_nginx_accepts(
    nginx_install: NginxInstall, timeout: str, connections: str, publish_mode: str, tls: bool
):
    values = {
        "clientTimeout": Written(timeout, True),
        "clientConnectionsPerAddress": Written(connections, True),
        "publishMode": Written(publish_mode, True),
    }
    assert_nginx_accepts(nginx_install, {**values, **(TLS_ON if tls else {})})


# The keys of what passes between clients and the app reach the L7 tier's
# app server, its upgrade location and (http2) its TLS listener: a random
# stack draws them in few examples and never turns TLS on. The retry window
# is set at its shortest, so every timeout is at least as long.
@settings(SLOW_EXAMPLES, max_examples=15)
@given(
    body=valid_value("requestBodyMaxSize"),
    read=valid_value("nginxReadTimeout"),
    send=valid_value("nginxSendTimeout"),
    websocket=valid_value("websocketIdleTimeout"),
    buffering=valid_value("responseBuffering"),
    http2=valid_value("http2"),
    tls=st.booleans(),
)
@example(body='"100g"', read='"1h"', send='"1s"', websocket='"1h"', buffering='"false"', http2='"true"', tls=True)
@example(body='"0"', read='"1s"', send='"1h"', websocket='"1s"', buffering='"true"', http2='"false"', tls=True)
def test_every_valid_protocol_setting_renders_configs_nginx_accepts(
    nginx_install: NginxInstall, body: str, read: str, send: str, websocket: str, buffering: str, http2: str, tls: bool
):
    values = {
        "requestBodyMaxSize": Written(body, True),
        "nginxReadTimeout": Written(read, True),
        "nginxSendTimeout": Written(send, True),
        "websocketIdleTimeout": Written(websocket, True),
        "responseBuffering": Written(buffering, True),
        "http2": Written(http2, True),
        "nginxNextUpstreamTimeout": Written('"1ms"', True),
    }
    assert_nginx_accepts(nginx_install, {**values, **(TLS_ON if tls else {})})
