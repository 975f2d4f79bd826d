"""Stack files read as the Pulumi CLI reads them, and every malformed one named in one line, never a traceback."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from offline_runner.stack_config import REPO_ROOT, StackConfigError, load_stack_config
from tools.render_nginx import nginx_config
from tools.validate import declare_or_exit
from tools.validate import main as validate

KEY = "swarm-zero-downtime:"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shutil.copy(REPO_ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def write(root: Path, text: str, stack: str = "t") -> str:
    (root / f"Pulumi.{stack}.yaml").write_bytes(text.encode())
    return stack


def stack_file(lines: dict[str, str]) -> str:
    return "config:\n" + "".join(f"  {KEY}{key}: {value}\n" for key, value in lines.items())


def run_validate(root: Path, stack: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    with pytest.raises(SystemExit) as exit_:
        validate(["--root", str(root), stack])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return int(exit_.value.code or 0), err.strip().splitlines()


@pytest.mark.parametrize(
    "written, handed_over",
    [
        ("true", "true"),
        ("True", "true"),  # YAML 1.2: a boolean, as the CLI reads it
        ("yes", "yes"),  # YAML 1.1 only: a string for the CLI
        ("on", "on"),
        ('"~"', "~"),  # quoted: a string
        ("0x10", "0x10"),
        ("[a, b]", '["a", "b"]'),  # structured values reach the program as JSON
        ("{a: 1}", '{"a": "1"}'),
    ],
)
def test_values_reach_the_program_as_the_cli_hands_them_over(root, written, handed_over):
    stack = write(root, stack_file({"publicHost": written}))
    assert load_stack_config(stack, root=root)[f"{KEY}publicHost"] == handed_over


@pytest.mark.parametrize("written", ["~", "null", ""])
def test_null_is_named_not_rendered(root, written):
    stack = write(root, stack_file({"imageTag": written}))
    with pytest.raises(StackConfigError, match=rf"^Pulumi.t.yaml: {KEY}imageTag: has no value \(YAML null\)"):
        load_stack_config(stack, root=root)


def test_backup_enabled_yes_is_refused_like_the_cli_would(root, capsys):
    stack = write(root, stack_file({"backupEnabled": "yes", "realReplicas": "0"}))
    code, lines = run_validate(root, stack, capsys)
    assert code == 1
    assert lines[0] == "stack t: invalid"
    assert sorted(lines[1:]) == [
        f"{KEY}backupEnabled: 'yes' must be true or false",
        f"{KEY}realReplicas: '0' must be a whole number from 1 to 100",
    ]


def test_a_list_value_does_not_hide_the_other_keys_problems(root, capsys):
    stack = write(root, stack_file({"imageTag": "[v1, v2]", "appPort": "0", "updateDelay": "{a: 1}"}))
    code, lines = run_validate(root, stack, capsys)
    assert code == 1
    assert sorted(line.split(": ")[0] for line in lines[1:]) == [f"{KEY}appPort", f"{KEY}imageTag", f"{KEY}updateDelay"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("config:\n  a: [b\n", r"Pulumi.t.yaml: not valid YAML at line \d+, column \d+: "),
        ("config: [1, 2]\n", "Pulumi.t.yaml: config must be a map of keys to values"),
        ("config: hello\n", "Pulumi.t.yaml: config must be a map of keys to values"),
        ("- config\n", "Pulumi.t.yaml: the file must be a map of keys to values"),
        (
            "config:\n  123: x\n",
            "Pulumi.t.yaml: key '123' at line 2 must be a name such as swarm-zero-downtime:imageTag",
        ),
        ("config:\n  [a]: x\n", "Pulumi.t.yaml: key 'a list or map' at line 2 must be a name"),
        (f"config:\n  {KEY}imagetag: v2\n", f"Pulumi.t.yaml: {KEY}imagetag: not a key of this project"),
        ("config:\n  \udcff: x\n", "Pulumi.t.yaml: "),
    ],
)
def test_malformed_files_give_one_line_naming_the_file(root, capsys, text, expected):
    path = root / "Pulumi.t.yaml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    code, lines = run_validate(root, "t", capsys)
    assert code == 1
    assert lines[0] == "stack t: invalid"
    assert len(lines) == 2, lines
    assert re.match(expected, lines[1]), lines[1]


@pytest.mark.parametrize(
    "key, written",
    [
        ("realReplicas", "9" * 5000),
        ("stopGracePeriod", "1" + "0" * 400 + "s"),
        ("appPort", '"\uff18\uff10\uff18\uff10"'),
    ],
)
def test_huge_and_foreign_numbers_are_one_line_each(root, capsys, key, written):
    stack = write(root, stack_file({key: written}))
    code, lines = run_validate(root, stack, capsys)
    assert code == 1
    assert len(lines) == 2 and lines[1].startswith(f"{KEY}{key}: "), lines


def test_every_problem_of_a_file_at_once(root, capsys):
    stack = write(root, f"config:\n  {KEY}imagetag: v2\n  {KEY}imageTag: ~\n  7: x\n")
    code, lines = run_validate(root, stack, capsys)
    assert code == 1
    assert len(lines) == 4, lines


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8)
)


@pytest.mark.parametrize(
    "text, expected",
    [
        # go-yaml v3, which the CLI reads with, fails on a key given twice; PyYAML would keep the last.
        (
            f"config:\n  {KEY}imageTag: v1\n  {KEY}realReplicas: 2\n  {KEY}imageTag: v2\n",
            rf"Pulumi.t.yaml: not valid YAML at line 4, column 3: mapping key '{KEY}imageTag' already defined at line 2$",
        ),
        ("config: {}\nconfig: {}\n", "Pulumi.t.yaml: .*mapping key 'config' already defined at line 1$"),
        (f"config:\n  {KEY}publicHost: &h a\n  {KEY}imageTag: *h\n", r".*line 3, column \d+: aliases \(\*name\)"),
        ("a: &a [*a]\n", r".*aliases \(\*name\) are not supported"),
        (f"config:\n  {KEY}publicHost:\n{LAUGHS}", r".*aliases \(\*name\) are not supported"),
        (f"config:\n  {KEY}publicHost: " + "[" * 3000 + "]" * 3000 + "\n", r".*nested more than 32 levels deep"),
        ("config:\n" + "".join(f"{'  ' * (i + 1)}k{i}:\n" for i in range(3000)), r".*nested more than 32 levels"),
        # YAML allows a plain key up to 1024 characters.
        (f"config:\n  {KEY}{'x' * 1000}: 1\n  {KEY}{'x' * 1000}: 2\n", r".*mapping key .*\.\.\. \(1020 characters\)"),
    ],
    ids=[
        "duplicate-key",
        "duplicate-top-level",
        "alias",
        "self-alias",
        "laughs",
        "flow-depth",
        "block-depth",
        "long-key",
    ],
)
def test_files_the_cli_refuses_or_that_expand_without_bound_are_one_short_line(root, capsys, text, expected):
    code, lines = run_validate(root, write(root, text), capsys)
    assert code == 1
    assert len(lines) == 2, lines
    assert re.match(expected, lines[1]), lines[1]
    assert len(lines[1]) < 300


@pytest.mark.parametrize(
    "key, written",
    [("publicHost", "x" * 100_000), ("publicHost", "[" + ", ".join(["abcdef"] * 20_000) + "]")],
    ids=["string", "list"],
)
def test_a_long_value_is_cut_where_a_problem_echoes_it(root, capsys, key, written):
    code, lines = run_validate(root, write(root, stack_file({key: written})), capsys)
    assert code == 1
    assert len(lines) == 2 and lines[1].startswith(f"{KEY}{key}: "), lines
    assert len(lines[1]) < 300


# As `pulumi config set --secret` writes them, on a passphrase-encrypted stack.
ENCRYPTED_STACK = f"""encryptionsalt: v1:Fj3RdmQvBrE=:v1:JW3IT5nI+7i1lmcl:w2t0ZNIHUAqA7uYu5ASeHWZ7gICRGQ==
config:
  {KEY}publicHost: app.example.com
  {KEY}tlsCertificate:
    secure: v1:mT5+Bq2oWNyL8hAQ:2vE2pZrQn0mY3rM6Yd1V7pQH2zX9fA==
  {KEY}tlsKey:
    secure: v1:Qh1b6Zk7mL0pN2sR:9gF3kL0xP2qW8eR5tY7uI1oA4sD6fH==
  {KEY}imageTag:
    secure: v1:a0b1c2d3e4f5g6h7:YWJjZGVmZ2hpams=
"""


def test_a_stack_with_encrypted_values_validates_naming_them_unchecked(root, capsys):
    stack = write(root, ENCRYPTED_STACK)
    validate(["--root", str(root), stack])
    out, err = capsys.readouterr()
    assert out.startswith("stack t: valid; would declare ")
    assert "1 Secret" in out  # TLS is on: the program ran as with the decrypted pair
    assert sorted(err.splitlines()) == [
        f"{KEY}{key}: secret, not checked here (`pulumi preview` decrypts and checks it)"
        for key in ("imageTag", "tlsCertificate", "tlsKey")
    ]
    assert "listen 443 ssl" in nginx_config(declare_or_exit(stack, root))


def test_a_stack_with_encrypted_values_still_has_its_other_keys_checked(root, capsys):
    stack = write(root, ENCRYPTED_STACK + f"  {KEY}realReplicas: 0\n  {KEY}httpsPort: 80\n")
    code, lines = run_validate(root, stack, capsys)
    assert code == 1
    assert lines[-2:] == [
        f"{KEY}realReplicas: '0' must be a whole number from 1 to 100",
        f"{KEY}httpsPort: 80 is also publishedPort; HTTP and HTTPS need a port each",
    ]


def test_encrypted_values_cannot_be_run_without_the_cli(root):
    with pytest.raises(StackConfigError, match=f"^Pulumi.t.yaml: {KEY}tlsCertificate: a secret \\(secure:\\)"):
        load_stack_config(write(root, ENCRYPTED_STACK), root=root)


def test_validate_says_what_each_rollout_reserves_beyond_the_steady_state(root, capsys):
    stack = write(
        root,
        stack_file(
            {
                # As `pulumi config set --path 'appResources.reservations.memory' 16M` writes it.
                "appResources": "\n    reservations:\n      cpus: 0.05\n      memory: 16M",
                "nginxResources": "{limits: {memory: 64M}, reservations: {memory: 8M}}",
            }
        ),
    )
    validate(["--root", str(root), stack])
    summary, *notes = capsys.readouterr().out.splitlines()
    assert summary.startswith("stack t: valid; ")
    by_service = {note.split(":")[0].strip(): note for note in notes}
    assert by_service["rollout of the real pool"].endswith(
        "; reserves 0.1 CPU and 32 MiB for its 2 task(s), a rollout up to 0.05 CPU and 16 MiB more"
        " (1 extra task(s) at a time, start-first)"
    )
    assert by_service["rollout of the L7 nginx pool"].endswith(
        "; reserves 16 MiB for its 2 task(s), a rollout up to 8 MiB more (1 extra task(s) at a time, start-first)"
    )
    assert "reserves" not in by_service["rollout of the edge"]
