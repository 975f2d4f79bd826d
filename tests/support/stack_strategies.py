"""Hypothesis strategies for stack files: every key of Pulumi.yaml, valid or invalid by construction.

A value's validity is decided here from the kind of rule the key has and its
bounds (the spec), never by calling the rule's parser (the code under test).
Values are written to the stack file as YAML the Pulumi CLI reads as that
string; some invalid ones are YAML lists, maps or null instead.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from offline_runner.stack_config import REPO_ROOT, project_name
from swarm_zero_downtime.settings import RULES
from swarm_zero_downtime.settings.parsers import (
    HOSTNAME,
    Boolean,
    Choice,
    DurationRule,
    Integer,
    Pattern,
    PemBlocks,
    PrivateSubnet,
    Repository,
    SizeRule,
)
from swarm_zero_downtime.settings.process import STOP_SIGNALS, EnvironmentMap, StopSignal, WordList
from swarm_zero_downtime.settings.resources import ResourcesRule
from swarm_zero_downtime.settings.secrets import SecretMap
from swarm_zero_downtime.swarm.values import go_duration

PROJECT = project_name()
UNIT_NANOS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}

# A DNS label as HOSTNAME takes it: at most 63 characters, no '-' at either end.
LABEL_EDGE = string.ascii_letters + string.digits
LABEL_INSIDE = LABEL_EDGE + "-"
# The longest host name HOSTNAME accepts: three 63-character labels and one of 61.
LONGEST_HOST = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
assert len(LONGEST_HOST) == HOSTNAME.max_length

# Known-good examples of the keys whose rule is a text pattern.
GOOD_TEXT = {
    "appName": ["webapp", "shop", "a", "x" + "y" * 31, "api-2"],
    "appImage": ["windowforsun/test-web", "nginx", "registry.example.com:5000/team/web-app", "localhost/app"],
    "imageTag": ["v1", "latest", "2026.11.26-rc_1", "X" * 128],
    "publicHost": ["localhost", "app.example.com", "a-b.c-d.example"],
    "healthCheckPath": ["/healthcheck", "/", "/ready/now", "/a.b_c~d-e"],
    "nginxImage": ["nginx:1.30-alpine", "nginx", "reg.example.com/nginx@sha256:" + "a" * 64],
    "edgeImage": ["nginx:1.30-alpine", "nginx", "reg.example.com/nginx@sha256:" + "a" * 64],
    "spreadOver": ["", "zone", "rack.id", "topology-zone_2"],
}
GOOD_SUBNETS = ["10.240.0.0/24", "172.16.0.0/16", "192.168.100.0/28", "10.0.0.0/16"]
BAD_SUBNETS = ["10.0.0.1/24", "8.8.8.0/24", "10.0.0.0/8", "10.0.0.0/29", "10.0.0.0/33", "fd00::/64", "10.0.0.0"]
# A well-formed certificate is still refused in a stack file: there it is plain text, not a secret.
PLAIN_PEM = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
# Text no rule of this project accepts for any key ("" is "none" for a few: see GOOD_TEXT).
NEVER_VALID_TEXT = st.sampled_from(
    ["", " ", "a b", "v1 ; rm -rf /", "$(id)", "\u00e9", "\u0663", "\uff18\uff10", "'\"", "{{ x }}", "\n"]
)
# YAML that is not a plain string: a list, a map (JSON text for the program) or null.
NOT_A_STRING = st.sampled_from(["[1, 2]", "{a: b}", "~", "null"])
# What a map or list key (appEnv, appCommand) takes: JSON text, or the same as a YAML map or list.
ENV_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True)
WORDS = st.text(st.characters(codec="utf-8", exclude_characters="\0"), max_size=20)
STRUCTURED_BAD = {
    EnvironmentMap: ['{"1ST": "x"}', '{"A-B": "x"}', '{"A": {"b": 1}}', '{"A": null}', '["A=1"]', "A=1", ""],
    WordList: ['"puma"', "[[1]]", '{"a": "b"}', "puma -C x", "", '["a", null]'],
    ResourcesRule: [
        '{"limits": {"memory": "5M"}}',
        '{"limits": {"cpus": 0.005}}',
        '{"limits": {"cpus": "0.5", "memory": "64M"}, "reservations": {"cpus": "1"}}',
        '{"limits": {"memory": "64M"}, "reservations": {"memory": "65M"}}',
        '{"limit": {"cpus": 1}}',
        '{"limits": {"cpu": 1}}',
        '{"limits": {"memory": 1.5}}',
        '{"reservations": {"cpus": true}}',
        '{"limits": "1"}',
        "256M",
    ],
}


def _resources() -> st.SearchStrategy[str]:
    """Good resources keys: any parts, a reservation at most its limit, in the forms people write."""
    cpus = st.integers(10, 4000)  # thousandths of a CPU
    memory = st.integers(6, 4096)  # MiB

    @st.composite
    def value(draw: st.DrawFn) -> str:
        out: dict[str, dict[str, object]] = {}
        limit_cpus, limit_memory = draw(st.none() | cpus), draw(st.none() | memory)
        reserve_cpus = draw(st.none() | st.integers(1, limit_cpus or 4000))
        reserve_memory = draw(st.none() | st.integers(1, limit_memory or 4096))
        for part, thousandths, mib in (
            ("limits", limit_cpus, limit_memory),
            ("reservations", reserve_cpus, reserve_memory),
        ):
            given: dict[str, object] = {}
            if thousandths is not None:
                given["cpus"] = draw(st.sampled_from([str(thousandths / 1000), thousandths / 1000]))
            if mib is not None:
                given["memory"] = draw(st.sampled_from([f"{mib}M", f"{mib}m", f"{mib}MiB", f"{mib * 1024}k"]))
            # An empty part is as good as none.
            empty_too: bool = draw(st.booleans())
            if given or empty_too:
                out[part] = given
        return json.dumps(out)

    return value()


@dataclass(frozen=True)
class Written:
    yaml: str  # the value as it stands in the stack file
    valid: bool


def _quoted(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar: the CLI reads it back as text.
    return json.dumps(text)


def _integer(rule: Integer) -> tuple[st.SearchStrategy[str], st.SearchStrategy[str]]:
    good = st.integers(rule.minimum, rule.maximum).map(str)
    bad = st.one_of(
        st.integers(max_value=rule.minimum - 1).map(str),
        st.integers(min_value=rule.maximum + 1).map(str),
        st.just("9" * 5000),
        st.floats(allow_nan=False).map(lambda f: f"{f}.5"),
    )
    return good, bad


def _duration(rule: DurationRule) -> tuple[st.SearchStrategy[str], st.SearchStrategy[str]]:
    def within(unit: str) -> st.SearchStrategy[str]:
        size = UNIT_NANOS[unit]
        low = -(-rule.minimum // size)
        return st.integers(low, rule.maximum // size).map(lambda n: f"{n}{unit}")

    units = [u for u in rule.units if rule.maximum // UNIT_NANOS[u] >= -(-rule.minimum // UNIT_NANOS[u])]
    good = st.one_of(*(within(u) for u in units), st.just(go_duration(rule.maximum)))
    too_big = st.sampled_from(rule.units).map(lambda u: f"{rule.maximum // UNIT_NANOS[u] + 1}{u}")
    foreign_units = [u for u in ("ns", "us", "ms", "s", "m", "h") if u not in rule.units]
    bad = st.one_of(
        too_big,
        st.just("99999999999999h"),
        st.just("1" + "0" * 400 + "s"),
        st.integers(1, 1000).map(str),  # no unit
        st.sampled_from(foreign_units or ["d"]).map(lambda u: f"1{u}"),
        st.just("1.5s"),
    )
    if rule.minimum > 0:
        bad = st.one_of(bad, st.just("0s"))
    return good, bad


SIZE_UNIT_BYTES = {"": 1, "k": 1024, "K": 1024, "m": 1024**2, "M": 1024**2, "g": 1024**3, "G": 1024**3}


def _size(rule: SizeRule) -> tuple[st.SearchStrategy[str], st.SearchStrategy[str]]:
    def within(unit: str) -> st.SearchStrategy[str]:
        size = SIZE_UNIT_BYTES[unit]
        return st.integers(-(-rule.minimum // size), rule.maximum // size).map(lambda n: f"{n}{unit}")

    good = st.one_of(*(within(u) for u in SIZE_UNIT_BYTES), st.just(f"{rule.maximum // 1024**3}g"))
    bad = st.one_of(
        st.just(f"{rule.maximum + 1}"),
        st.just(f"{rule.maximum // 1024**3 + 1}g"),
        st.just("9" * 400 + "k"),
        st.sampled_from(["1.5m", "1t", "1kb", "1 m", "-1", "1mm", "m"]),
    )
    return good, bad


@st.composite
def _labels(draw: st.DrawFn) -> str:
    size = draw(st.integers(1, 63))
    if size == 1:
        return draw(st.sampled_from(LABEL_EDGE))
    inside = draw(st.text(LABEL_INSIDE, min_size=size - 2, max_size=size - 2))
    return draw(st.sampled_from(LABEL_EDGE)) + inside + draw(st.sampled_from(LABEL_EDGE))


# Up to four labels of up to 63 characters: names of every length up to the limit.
HOST_NAMES = (
    st.lists(_labels(), min_size=1, max_size=4).map(".".join).filter(lambda name: len(name) <= HOSTNAME.max_length)
)


def _good_and_bad(key: str) -> tuple[st.SearchStrategy[str], st.SearchStrategy[str]]:
    rule = RULES[key]
    if isinstance(rule, Integer):
        good, bad = _integer(rule)
    elif isinstance(rule, DurationRule):
        good, bad = _duration(rule)
    elif isinstance(rule, SizeRule):
        good, bad = _size(rule)
    elif isinstance(rule, Choice):
        good = st.sampled_from(rule.choices)
        bad = st.text(string.ascii_letters + "-", min_size=1, max_size=12).filter(lambda t: t not in rule.choices)
    elif isinstance(rule, Boolean):
        good = st.sampled_from(["true", "false"])
        bad = st.sampled_from(["yes", "no", "on", "off", "1", "0", "True ", "y"])
    elif isinstance(rule, PrivateSubnet):
        good = st.sampled_from(GOOD_SUBNETS)
        bad = st.one_of(st.sampled_from(BAD_SUBNETS), NEVER_VALID_TEXT)
    elif isinstance(rule, PemBlocks):
        # Only "no TLS" is valid in a stack file; a key set there is plain text.
        good = st.sampled_from(["", " "])
        bad = st.one_of(st.just(PLAIN_PEM), NEVER_VALID_TEXT.filter(lambda t: t.strip() != ""))
    elif isinstance(rule, SecretMap):
        # Only "no secrets" is valid in a stack file; an entry set there is plain text.
        good = st.just("{}")
        bad = st.sampled_from(['{"DB_PASSWORD": "x"}', *STRUCTURED_BAD[EnvironmentMap]])
    elif isinstance(rule, EnvironmentMap):
        good = st.dictionaries(ENV_NAMES, st.one_of(WORDS, st.integers(), st.booleans()), max_size=4).map(json.dumps)
        bad = st.sampled_from(STRUCTURED_BAD[EnvironmentMap])
    elif isinstance(rule, WordList):
        good = st.lists(st.one_of(WORDS, st.integers()), max_size=4).map(json.dumps)
        bad = st.sampled_from(STRUCTURED_BAD[WordList])
    elif isinstance(rule, ResourcesRule):
        good = _resources()
        bad = st.sampled_from(STRUCTURED_BAD[ResourcesRule])
    elif isinstance(rule, StopSignal):
        good = st.sampled_from(("", *STOP_SIGNALS))
        bad = st.sampled_from(["SIGKILL", "SIGSTOP", "TERM", "15", "sigterm"])
    elif isinstance(rule, Pattern | Repository):
        good = st.sampled_from(GOOD_TEXT[key])
        if rule is HOSTNAME:
            good = st.one_of(good, HOST_NAMES, st.just(LONGEST_HOST))
        bad = NEVER_VALID_TEXT.filter(lambda t: t not in GOOD_TEXT[key])  # "" means "none" for some keys
    else:
        raise AssertionError(f"no strategy for the rule of {key}: {rule!r}")
    return good, bad


def value_strategy(key: str) -> st.SearchStrategy[Written]:
    good, bad = _good_and_bad(key)
    written = [good.map(lambda text: Written(_quoted(text), True)), bad.map(lambda text: Written(_quoted(text), False))]
    if isinstance(RULES[key], EnvironmentMap | WordList):
        # JSON is YAML: the same value written as a map or list; a YAML map is an
        # environment, a list of numbers a command line.
        written.append(good.map(lambda text: Written(text, True)))
        fits = "{a: b}" if isinstance(RULES[key], EnvironmentMap) else "[1, 2]"
        written.append(NOT_A_STRING.map(lambda text: Written(text, text == fits)))
    else:
        written.append(NOT_A_STRING.map(lambda text: Written(text, False)))
    return st.one_of(*written)


def valid_value(key: str) -> st.SearchStrategy[str]:
    return _good_and_bad(key)[0].map(_quoted)


@st.composite
def stack_files(draw: st.DrawFn, only_valid: bool = False) -> dict[str, Written]:
    """Short key -> the value written for it, for a random subset of the declared keys."""
    keys = draw(st.lists(st.sampled_from(sorted(RULES)), unique=True, max_size=8))
    return {
        key: draw(valid_value(key).map(lambda y: Written(y, True)) if only_valid else value_strategy(key))
        for key in keys
    }


def write_stack(root: Path, values: dict[str, Written], stack: str = "prop") -> str:
    (root / "Pulumi.yaml").write_text((REPO_ROOT / "Pulumi.yaml").read_text())
    lines = "".join(f"  {PROJECT}:{key}: {written.yaml}\n" for key, written in values.items())
    (root / f"Pulumi.{stack}.yaml").write_text(f"config:\n{lines}")
    return stack
