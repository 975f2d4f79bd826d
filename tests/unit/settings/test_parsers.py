"""Each value parser on its own: what it accepts, what it returns, what it says otherwise."""

from __future__ import annotations

import pytest

from settings.parsers import (
    NGINX_SECOND_UNITS,
    InvalidValue,
    parse_bool,
    parse_choice,
    parse_dns_label,
    parse_duration,
    parse_hostname,
    parse_image_reference,
    parse_int,
    parse_port,
    parse_repository,
    parse_tag,
    parse_url_path,
)

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "raw, seconds, nginx",
    [("10s", 10, "10s"), ("500ms", 0.5, "500ms"), ("1m30s", 90, "90s"), ("1h", 3600, "3600s"), ("0s", 0, "0s")],
)
def test_duration_keeps_the_text_swarm_gets_and_converts_for_nginx(raw, seconds, nginx):
    duration = parse_duration(raw)
    assert (duration.text, duration.seconds, duration.nginx) == (raw, seconds, nginx)


@pytest.mark.parametrize("raw", ["", "10", "1.5s", "ten seconds", "1m30", "s", "-1s", "10S"])
def test_duration_rejects_what_is_not_a_go_duration(raw):
    with pytest.raises(InvalidValue, match=r"must be a duration such as 10s, 500ms or 1m30s \(units: ns, us,"):
        parse_duration(raw)


def test_duration_units_and_zero_can_be_restricted():
    with pytest.raises(InvalidValue, match=r"\(units: s, m, h\)"):
        parse_duration("500ms", NGINX_SECOND_UNITS)
    with pytest.raises(InvalidValue, match="must be a non-zero duration"):
        parse_duration("0s", positive=True)
    assert parse_duration("2s", NGINX_SECOND_UNITS, positive=True).seconds == 2


@pytest.mark.parametrize("raw, value", [("1", 1), ("+7", 7), (" 3 ", 3), ("100", 100)])
def test_int_within_bounds(raw, value):
    assert parse_int(raw, 1, 100) == value


@pytest.mark.parametrize("raw", ["0", "101", "two", "1.0", "", "1e2"])
def test_int_out_of_bounds_or_not_a_number_names_the_bounds(raw):
    with pytest.raises(InvalidValue, match="must be a whole number between 1 and 100"):
        parse_int(raw, 1, 100)


def test_int_without_upper_bound_says_so():
    with pytest.raises(InvalidValue, match="must be a whole number >= 1"):
        parse_int("0", 1)


def test_port_is_1_to_65535():
    assert parse_port("65535") == 65535
    for raw in ("0", "65536"):
        with pytest.raises(InvalidValue, match="between 1 and 65535"):
            parse_port(raw)


def test_bool_is_true_or_false_only():
    assert (parse_bool("true"), parse_bool("False")) == (True, False)
    with pytest.raises(InvalidValue, match="must be true or false"):
        parse_bool("yes")


def test_choice_lists_the_choices():
    assert parse_choice("vip", ("dnsrr", "vip")) == "vip"
    with pytest.raises(InvalidValue, match="must be one of: dnsrr, vip"):
        parse_choice("VIP", ("dnsrr", "vip"))


@pytest.mark.parametrize("raw", ["nginx", "windowforsun/test-web", "registry.example.com:5000/team/web-app"])
def test_repository(raw):
    assert parse_repository(raw) == raw


def test_repository_with_a_tag_points_to_image_tag():
    with pytest.raises(InvalidValue, match=r"without tag or digest \(set the tag in imageTag\)"):
        parse_repository("windowforsun/test-web:v1")


@pytest.mark.parametrize("raw", ["Windowforsun/Test-Web", "web app", "a" * 256, "/app", "app/"])
def test_repository_rejects_what_docker_would(raw):
    with pytest.raises(InvalidValue, match="must be an image repository"):
        parse_repository(raw)


@pytest.mark.parametrize("raw", ["v1", "latest", "2026.11.26-rc_1", "V_2", "x" * 128])
def test_tag(raw):
    assert parse_tag(raw) == raw


@pytest.mark.parametrize("raw", ["v1 ; rm", ".hidden", "-x", "x" * 129, "", "a:b"])
def test_tag_rejects(raw):
    with pytest.raises(InvalidValue, match="must be an image tag"):
        parse_tag(raw)


@pytest.mark.parametrize(
    "raw", ["nginx:1.30-alpine", "nginx", f"nginx@{DIGEST}", f"reg.example.com/nginx:1.30@{DIGEST}"]
)
def test_image_reference_with_tag_or_digest(raw):
    assert parse_image_reference(raw) == raw


@pytest.mark.parametrize("raw", ["nginx latest", "nginx:", "nginx@sha256:abc", "Nginx:1"])
def test_image_reference_rejects(raw):
    with pytest.raises(InvalidValue, match="must be an image reference"):
        parse_image_reference(raw)


def test_dns_label():
    assert parse_dns_label("webapp-2", 40) == "webapp-2"
    for raw in ("Web_App", "2web", "web-", "a" * 41):
        with pytest.raises(InvalidValue, match=r"must be a DNS label.*at most 40 characters"):
            parse_dns_label(raw, 40)


def test_hostname():
    assert parse_hostname("app.example.com") == "app.example.com"
    for raw in ("app example.com", "-app.example.com", "a" * 64 + ".com"):
        with pytest.raises(InvalidValue, match="must be a host name"):
            parse_hostname(raw)


def test_url_path_is_safe_in_a_shell_command():
    assert parse_url_path("/healthcheck/ready") == "/healthcheck/ready"
    for raw in ("healthcheck", "/health;reboot", "/a b", "/$(id)", "/a?b=1"):
        with pytest.raises(InvalidValue, match="must be an absolute URL path"):
            parse_url_path(raw)
