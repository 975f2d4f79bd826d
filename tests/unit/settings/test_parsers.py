"""Each value rule on its own: what it accepts, what it returns, what it says otherwise."""

from __future__ import annotations

import pytest

from swarm_zero_downtime.settings.parsers import (
    HOSTNAME,
    IMAGE_REFERENCE,
    NGINX_SECOND_UNITS,
    PORT,
    REPOSITORY,
    TAG,
    URL_PATH,
    Boolean,
    Choice,
    DurationRule,
    Integer,
    InvalidValue,
    SizeRule,
    dns_label,
)
from swarm_zero_downtime.swarm.values import GIB, HOUR, MILLISECOND, SECOND, ByteSize, Duration, go_duration

DIGEST = "sha256:" + "0123456789abcdef" * 4
ANY_DURATION = DurationRule(0, HOUR)


@pytest.mark.parametrize(
    "nanos, text",
    [
        (0, "0s"),
        (500 * MILLISECOND, "500ms"),
        (1500 * MILLISECOND, "1.5s"),
        (10 * SECOND, "10s"),
        (60 * SECOND, "1m"),
        (90 * SECOND, "1m30s"),
        (HOUR, "1h"),
        (HOUR + 30 * SECOND, "1h0m30s"),
        (25 * HOUR + 60 * SECOND, "25h1m"),
        (1_500, "1.5\u00b5s"),
        (7, "7ns"),
    ],
)
def test_go_duration_is_what_pulumi_docker_reads_back(nanos, text):
    assert go_duration(nanos) == text


@pytest.mark.parametrize(
    "raw, nanos, text, nginx",
    [
        ("10s", 10 * SECOND, "10s", "10s"),
        ("500ms", 500 * MILLISECOND, "500ms", "500ms"),
        ("90s", 90 * SECOND, "1m30s", "90s"),
        ("1m30s", 90 * SECOND, "1m30s", "90s"),
        ("1000ms", SECOND, "1s", "1s"),
        ("60m", HOUR, "1h", "3600s"),
        ("0s", 0, "0s", "0s"),
    ],
)
def test_duration_is_whole_nanoseconds_written_in_the_providers_form(raw, nanos, text, nginx):
    duration = ANY_DURATION.parse(raw)
    assert duration == Duration(nanos)
    assert (duration.text, duration.nginx) == (text, nginx)


@pytest.mark.parametrize(
    "raw", ["", "10", "1.5s", "ten seconds", "1m30", "s", "-1s", "10S", "1ns", "500us", "\u0663s", "\uff11s"]
)
def test_duration_rejects_what_is_not_whole_ascii_units(raw):
    with pytest.raises(InvalidValue, match=r"must be a duration from 0s to 1h such as 10s, 500ms or 1m30s"):
        ANY_DURATION.parse(raw)


@pytest.mark.parametrize("raw", ["99999999999999h", "1" + "0" * 400 + "s", "61m", "3601s"])
def test_duration_above_its_bound_is_rejected_without_overflow(raw):
    with pytest.raises(InvalidValue, match="from 0s to 1h"):
        ANY_DURATION.parse(raw)


def test_duration_lower_bound_and_units():
    rule = DurationRule(SECOND, HOUR, NGINX_SECOND_UNITS)
    assert rule.allowed == "a duration from 1s to 1h such as 10s, 500ms or 1m30s (units: s, m, h)"
    for raw in ("0s", "500ms"):
        with pytest.raises(InvalidValue, match=r"from 1s to 1h .*\(units: s, m, h\)"):
            rule.parse(raw)
    assert rule.parse("2s") == Duration(2 * SECOND)


@pytest.mark.parametrize("raw, value", [("1", 1), ("+7", 7), (" 3 ", 3), ("100", 100)])
def test_integer_within_bounds(raw, value):
    assert Integer(1, 100).parse(raw) == value


@pytest.mark.parametrize("raw", ["0", "101", "two", "1.0", "", "1e2", "\uff18", "\u0661", "9" * 5000])
def test_integer_out_of_bounds_or_not_ascii_digits_names_the_bounds(raw):
    with pytest.raises(InvalidValue, match="must be a whole number from 1 to 100"):
        Integer(1, 100).parse(raw)


def test_port_is_1_to_65535():
    assert PORT.parse("65535") == 65535
    for raw in ("0", "65536", "\uff18\uff10\uff18\uff10"):
        with pytest.raises(InvalidValue, match="from 1 to 65535"):
            PORT.parse(raw)


@pytest.mark.parametrize("raw", ["yes", "on", "True", "1", ""])
def test_boolean_is_true_or_false_as_the_pulumi_cli_reads_yaml(raw):
    assert (Boolean().parse("true"), Boolean().parse("false")) == (True, False)
    with pytest.raises(InvalidValue, match="must be true or false"):
        Boolean().parse(raw)


def test_choice_lists_the_choices():
    assert Choice(("dnsrr", "vip")).parse("vip") == "vip"
    with pytest.raises(InvalidValue, match="must be one of: dnsrr, vip"):
        Choice(("dnsrr", "vip")).parse("VIP")


@pytest.mark.parametrize(
    "raw",
    ["nginx", "windowforsun/test-web", "registry.example.com:5000/team/web-app", "localhost/app", "Registry.io/app"],
)
def test_repository(raw):
    assert REPOSITORY.parse(raw) == raw


def test_repository_with_a_tag_points_to_image_tag():
    with pytest.raises(InvalidValue, match=r"without tag or digest \(set the tag in imageTag\)"):
        REPOSITORY.parse("windowforsun/test-web:v1")


@pytest.mark.parametrize(
    "raw", ["Windowforsun/Test-Web", "Registry/app", "web app", "a" * 256, "/app", "app/", "caf\u00e9/app"]
)
def test_repository_rejects_what_docker_would(raw):
    with pytest.raises(InvalidValue, match="must be an image repository such as"):
        REPOSITORY.parse(raw)


@pytest.mark.parametrize("raw", ["v1", "latest", "2026.11.26-rc_1", "V_2", "x" * 128])
def test_tag(raw):
    assert TAG.parse(raw) == raw


@pytest.mark.parametrize("raw", ["v1 ; rm", ".hidden", "-x", "x" * 129, "", "a:b", "v\u00e9", "v\u0661"])
def test_tag_rejects(raw):
    with pytest.raises(InvalidValue, match="must be an image tag"):
        TAG.parse(raw)


@pytest.mark.parametrize(
    "raw", ["nginx:1.30-alpine", "nginx", f"nginx@{DIGEST}", f"reg.example.com/nginx:1.30@{DIGEST}"]
)
def test_image_reference_with_tag_or_digest(raw):
    assert IMAGE_REFERENCE.parse(raw) == raw


@pytest.mark.parametrize("raw", ["nginx latest", "nginx:", "nginx@sha256:abc", "Nginx:1", "Registry/nginx:1"])
def test_image_reference_rejects(raw):
    with pytest.raises(InvalidValue, match="must be an image reference"):
        IMAGE_REFERENCE.parse(raw)


def test_dns_label():
    rule = dns_label(32)
    assert rule.parse("webapp-2") == "webapp-2"
    for raw in ("Web_App", "2web", "web-", "a" * 33, "w\u00e9b"):
        with pytest.raises(InvalidValue, match=r"must be a DNS label.*at most 32 characters"):
            rule.parse(raw)


def test_hostname():
    assert HOSTNAME.parse("app.example.com") == "app.example.com"
    for raw in ("app example.com", "-app.example.com", "a" * 64 + ".com", "caf\u00e9.example"):
        with pytest.raises(InvalidValue, match="must be a host name"):
            HOSTNAME.parse(raw)


def test_url_path_is_safe_in_a_shell_command():
    assert URL_PATH.parse("/healthcheck/ready") == "/healthcheck/ready"
    for raw in ("healthcheck", "/health;reboot", "/a b", "/$(id)", "/a?b=1", "/" + "a" * 256):
        with pytest.raises(InvalidValue, match="must be an absolute URL path"):
            URL_PATH.parse(raw)


def test_image_tag_may_be_pinned_to_a_digest():
    from swarm_zero_downtime.settings.parsers import PINNABLE_TAG

    assert PINNABLE_TAG.parse(f"v2@{DIGEST}") == f"v2@{DIGEST}"
    assert PINNABLE_TAG.parse("v2") == "v2"
    for raw in (f"v2@{DIGEST[:-1]}", f"@{DIGEST}", "v2@sha256:XYZ", f"v2 @{DIGEST}"):
        with pytest.raises(InvalidValue, match="optionally pinned to a digest"):
            PINNABLE_TAG.parse(raw)


BODY_SIZE = SizeRule(0, 100 * GIB)


@pytest.mark.parametrize(
    "raw, size, nginx",
    [
        ("0", 0, "0"),
        ("1m", 1024**2, "1m"),
        ("1M", 1024**2, "1m"),
        ("512k", 512 * 1024, "512k"),
        ("1024k", 1024**2, "1m"),
        ("1048577", 1024**2 + 1, "1048577"),
        (" 100g ", 100 * GIB, "100g"),
        ("007m", 7 * 1024**2, "7m"),
    ],
)
def test_a_size_is_bytes_and_written_back_in_nginx_units(raw, size, nginx):
    parsed = BODY_SIZE.parse(raw)
    assert parsed == ByteSize(size)
    assert parsed.nginx == nginx


@pytest.mark.parametrize("raw", ["", "m", "1.5m", "1t", "1kb", "1 m", "-1", "+1", "101g", "9" * 16, "\u0661m"])
def test_a_size_outside_nginx_syntax_or_the_bounds_is_refused(raw):
    with pytest.raises(InvalidValue, match="must be a size from 0 to 100g"):
        BODY_SIZE.parse(raw)
