"""The GitHub Actions workflows: valid, pinned, and built so a branch cannot deploy.

Pull requests run the branch's own code and the branch can edit its own
workflow files, so the design is that nothing a pull request can reach holds a
credential that changes a stack or reads a production secret: validation runs
without secrets, previews of stacks without production secrets run in
`preview-<stack>` environments (read-only credentials), and a preview of any
other stack (it decrypts the stack's secret config) and `pulumi up` run only on
`main`, the first in `preview-<stack>`, the second in the environment named
after the stack.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline_runner.stack_config import REPO_ROOT, available_stacks
from tests.support.requirements_files import lock_python
from tools.pulumi_cli import pinned_version

GITHUB_DIR = REPO_ROOT / ".github"
WORKFLOWS = sorted((GITHUB_DIR / "workflows").glob("*.yml"))
ACTIONS = sorted((GITHUB_DIR / "actions").glob("*/action.yml"))
PREVIEW = GITHUB_DIR / "workflows" / "preview.yml"
DEPLOY = GITHUB_DIR / "workflows" / "deploy.yml"

# zizmor findings accepted on purpose: (audit, path from the repository root)
# -> why, in one line. Every entry must still match a finding.
EXPLAINED: dict[tuple[str, str], str] = {}

# The stacks whose secrets any branch may read: a pull request previews these only.
# Every other stack, prod and any added later, holds production secrets.
BRANCH_PREVIEW_STACKS = ["dev"]

PINNED_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+){0,2}$")
LOCAL_USES = "$/"


def tool(name: str) -> str:
    """A tool installed in this virtualenv, next to the interpreter."""
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    assert path, f"{name} missing: make venv installs it from requirements-dev.txt"
    return path


def load(path: Path) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps_of(path: Path) -> Iterator[dict[str, Any]]:
    data = load(path)
    if "jobs" in data:
        for job in data["jobs"].values():
            yield from job.get("steps", [])
    else:
        yield from data["runs"].get("steps", [])


def reads_secrets(definition: object) -> bool:
    """Whether an expression in ``definition`` (comments excluded) reads the secrets context."""
    return re.search(r"\$\{\{[^}]*\bsecrets\b", json.dumps(definition)) is not None


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]


def uses_policy_pack(job: dict[str, Any]) -> bool:
    return any("policyPacks" in step.get("with", {}) for step in pulumi_steps(job))


def production_stacks() -> list[str]:
    return [stack for stack in available_stacks() if stack not in BRANCH_PREVIEW_STACKS]


def matrix_runs(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The job once per combination of its matrix, with every `${{ matrix.<key> }}` replaced by its
    value and the strategy, which names every combination, left out."""
    matrix = job.get("strategy", {}).get("matrix", {})
    # A computed matrix, or include/exclude, could add a stack no reading of the file shows.
    assert isinstance(matrix, dict), f"matrix is not a plain mapping: {matrix!r}"
    assert all(isinstance(values, list) for values in matrix.values()), f"matrix has non-list axes: {matrix!r}"
    runs = []
    for values in itertools.product(*matrix.values()):
        text = json.dumps({key: value for key, value in job.items() if key != "strategy"})
        for key, value in zip(matrix, values, strict=True):
            text = re.sub(r"\$\{\{\s*matrix\." + re.escape(key) + r"\s*\}\}", str(value), text)
        runs.append(json.loads(text))
    return runs


def environment_name(job: dict[str, Any]) -> str | None:
    environment = job.get("environment")
    return environment["name"] if isinstance(environment, dict) else environment


def triggered_by_pull_requests(path: Path) -> bool:
    triggers = load(path)["on"]
    names = [triggers] if isinstance(triggers, str) else list(triggers)
    return any(name.startswith("pull_request") for name in names)


def zizmor(target: Path, cwd: Path) -> list[dict[str, Any]]:
    """zizmor's findings, offline, with no config file or ignore comment able to hide one."""
    result = subprocess.run(
        [
            tool("zizmor"),
            "--offline",
            "--no-config",
            "--no-ignores",
            "--no-exit-codes",
            "--no-progress",
            "--format",
            "json",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def finding_key(finding: dict[str, Any]) -> tuple[str, str]:
    return finding["ident"], finding["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"]


def describe(finding: dict[str, Any]) -> str:
    location = finding["locations"][0]
    row = location["concrete"]["location"]["start_point"]["row"] + 1
    ident, path = finding_key(finding)
    return f"{path}:{row}: {ident}: {finding['desc']} ({location['symbolic']['annotation']})"


def test_workflows_and_actions_match_the_schema():
    for schema, files in (("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", ACTIONS)):
        assert files
        result = subprocess.run(
            [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_pull_request_validates_every_stack_without_secrets():
    job = load(PREVIEW)["jobs"]["validate"]
    assert job["strategy"]["matrix"]["stack"] == available_stacks()
    # No condition and no environment: forks included, nothing to hand out.
    assert "if" not in job
    assert "environment" not in job
    assert job["permissions"] == {"contents": "read"}
    assert not reads_secrets(job)
    (validate,) = [s for s in job["steps"] if "make validate" in s.get("run", "")]
    assert validate == {"run": 'make validate STACK="$STACK"', "env": {"STACK": "${{ matrix.stack }}"}}


def test_branches_of_this_repository_preview_the_stacks_without_production_secrets():
    job = load(PREVIEW)["jobs"]["preview"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert job["needs"] == "validate"
    assert job["strategy"]["matrix"]["stack"] == BRANCH_PREVIEW_STACKS
    assert job["environment"] == "preview-${{ matrix.stack }}"
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    (preview,) = pulumi_steps(job)
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["stack-name"] == "${{ matrix.stack }}"
    assert preview["with"]["comment-on-pr"] is True
    assert preview["with"]["diff"] is True
    assert preview["with"]["refresh"] is True  # drift shows; a preview writes no state


def test_fork_pull_requests_get_a_notice_instead_of_a_failure():
    job = load(PREVIEW)["jobs"]["fork-notice"]
    assert job["if"] == "github.event.pull_request.head.repo.full_name != github.repository"
    assert job["permissions"] == {}
    script = "\n".join(s["run"] for s in job["steps"])
    assert "::notice" in script
    assert '>> "$GITHUB_STEP_SUMMARY"' in script
    assert "fork" in script
    assert not reads_secrets(job)


def test_no_pull_request_job_reaches_a_production_stack_or_a_deploy_environment():
    # A preview runs the program, which decrypts the stack's secret config: a
    # job of the branch's code with a stack's read token reads its secrets.
    production = production_stacks()
    assert "prod" in production
    pr_workflows = [w for w in WORKFLOWS if triggered_by_pull_requests(w)]
    assert PREVIEW in pr_workflows
    for workflow in pr_workflows:
        text = workflow.read_text()
        assert not re.search(r"secrets\.\w*prod", text, re.IGNORECASE), workflow.name
        for name, job in load(workflow)["jobs"].items():
            for run in matrix_runs(job):
                environment = environment_name(run)
                if environment is None and not reads_secrets(run):
                    continue  # nothing to hand out
                where = f"{workflow.name}: {name} in {environment}"
                assert environment is not None, f"{where}: secrets from outside an environment"
                assert environment in {f"preview-{stack}" for stack in BRANCH_PREVIEW_STACKS}, where
                for stack in production:
                    assert not re.search(rf"\b{re.escape(stack)}\b", json.dumps(run)), f"{where} names {stack}"


def test_production_stacks_are_previewed_on_main_before_their_deploy():
    jobs = load(DEPLOY)["jobs"]
    for stack in production_stacks():
        job = jobs[f"preview-{stack}"]
        # Read-only credentials; the environment accepts `main` only (docs/deploy-pipeline.md).
        assert job["environment"] == f"preview-{stack}"
        assert job["permissions"] == {"contents": "read"}
        (preview,) = pulumi_steps(job)
        assert preview["with"]["command"] == "preview"
        assert preview["with"]["stack-name"] == stack
        assert preview["with"]["diff"] is True
        assert preview["with"]["refresh"] is True
        # In the run the reviewer approves; there is no pull request to comment on.
        assert preview["with"]["comment-on-summary"] is True
        assert "comment-on-pr" not in preview["with"]
        assert f"preview-{stack}" in jobs[f"up-{stack}"]["needs"]


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.name)
def test_no_pull_request_target_and_no_secrets_context_dump(path: Path):
    definition = load(path)
    assert "pull_request_target" not in definition.get("on", {})
    # Indexing or serialising the secrets context hands every secret to the runner.
    assert not re.search(r"\bsecrets\s*\[|toJSON\(\s*secrets\s*\)", json.dumps(definition))


def test_prod_deploys_only_after_dev_in_a_protected_environment():
    workflow = load(DEPLOY)
    assert workflow["on"] == {"push": {"branches": ["main"]}}
    jobs = workflow["jobs"]
    assert jobs["up-dev"]["environment"] == "dev"
    assert "up-dev" in jobs["up-prod"]["needs"]
    assert jobs["up-prod"]["environment"] == "prod"
    ups = [job for name, job in jobs.items() if name.startswith("up-")]
    assert len(ups) == len(available_stacks())
    for job in ups:
        # The action only installs the CLI; the up runs as `make deploy` runs it.
        (cli,) = pulumi_steps(job)
        assert "command" not in cli["with"]
        (up,) = [s for s in job["steps"] if "scripts/pulumi-up.sh" in s.get("run", "")]
        # A stack is deployed with its own environment's credentials only.
        assert up["run"] == f"bash scripts/pulumi-up.sh {job['environment']}"
        assert set(up["env"]) == {"PULUMI_ACCESS_TOKEN", "DOCKER_HOST"}


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version_alongside(path: Path):
    uses = [m.group(1) for m in re.finditer(r"^\s*(?:-\s+)?uses:\s*(.+?)\s*$", path.read_text(), re.MULTILINE)]
    assert uses or path in ACTIONS
    for ref in uses:
        assert ref.startswith(LOCAL_USES) or PINNED_USES.match(ref), f"{path.name}: {ref}"


def test_an_action_is_pinned_to_the_same_commit_everywhere():
    pins: dict[str, set[str]] = {}
    for path in WORKFLOWS + ACTIONS:
        for step in steps_of(path):
            if "@" in step.get("uses", ""):
                name, sha = step["uses"].split("@")
                pins.setdefault(name, set()).add(sha)
    assert pins
    assert {name: shas for name, shas in pins.items() if len(shas) > 1} == {}


def test_the_pulumi_cli_matches_the_sdk_pin():
    for workflow in (PREVIEW, DEPLOY):
        for job in load(workflow)["jobs"].values():
            for step in pulumi_steps(job) if "steps" in job else []:
                assert step["with"]["pulumi-version"] == pinned_version(), workflow.name


@pytest.mark.parametrize(("workflow", "job_name"), [(PREVIEW, "preview"), (DEPLOY, "preview-prod")])
def test_every_preview_runs_the_policy_pack(workflow, job_name):
    (step,) = pulumi_steps(load(workflow)["jobs"][job_name])
    assert step["with"]["command"] == "preview"
    assert step["with"]["policyPacks"] == "policy"
    assert (REPO_ROOT / "policy" / "PulumiPolicy.yaml").is_file()


def test_every_job_sets_up_the_python_the_lock_was_resolved_for():
    pythons = [
        step["with"]["python-version"]
        for path in WORKFLOWS
        for step in steps_of(path)
        if step.get("uses", "").startswith("actions/setup-python@")
    ]
    assert pythons
    assert set(pythons) == {lock_python()}


def test_jobs_that_run_pulumi_install_the_lock_alone_before_any_key():
    for path in WORKFLOWS:
        for name, job in load(path)["jobs"].items():
            if "steps" not in job or not pulumi_steps(job):
                continue
            runs = [(i, s["run"]) for i, s in enumerate(job["steps"]) if "run" in s]
            installs = [i for i, run in runs if re.search(r"\bmake venv\b|\bpip\b|\buv\b", run)]
            # make venv-deploy: requirements.lock, --require-hashes; make venv-policy: the policy
            # pack's lock, the same way (tests/unit/test_requirements_lock.py).
            expected = ["make venv-deploy", "make venv-policy"] if uses_policy_pack(job) else ["make venv-deploy"]
            assert [run for i, run in runs if i in installs] == expected, f"{path.name}: {name}"
            first_secret = min(i for i, s in enumerate(job["steps"]) if reads_secrets(s))
            assert installs[0] < first_secret, f"{path.name}: {name}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_least_privilege_token_and_no_persisted_credentials(path: Path):
    workflow = load(path)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        permissions = job["permissions"]
        posts_comments = any(s["with"].get("comment-on-pr") for s in pulumi_steps(job))
        expected_writes = {"pull-requests"} if posts_comments else set()
        assert {scope for scope, level in permissions.items() if level == "write"} == expected_writes, name
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: p.name)
def test_run_scripts_take_expressions_only_through_env(path: Path):
    for step in steps_of(path):
        assert "${{" not in step.get("run", ""), f"{path.name}: {step['run']}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_docker_is_reached_over_ssh_with_keys_from_the_environment(path: Path):
    assert "tcp://" not in path.read_text()
    workflow = load(path)
    assert not reads_secrets(workflow.get("env", {}))
    for name, job in workflow["jobs"].items():
        # Credentials go to the step that needs them, not to every step of a job
        # that also runs the branch's Makefile and pip install.
        assert not reads_secrets(job.get("env", {})), name
        steps = job["steps"]
        docker_steps = [i for i, s in enumerate(steps) if "DOCKER_HOST" in s.get("env", {})]
        for index in docker_steps:
            assert steps[index]["env"]["DOCKER_HOST"] == "${{ secrets.DOCKER_HOST }}", name
            ssh = [i for i, s in enumerate(steps) if s.get("uses") == "$/.github/actions/docker-over-ssh"]
            assert ssh, name
            assert ssh[0] < index, name
            assert steps[ssh[0]]["with"] == {
                "private-key": "${{ secrets.DOCKER_SSH_KEY }}",
                "known-hosts": "${{ secrets.DOCKER_SSH_KNOWN_HOSTS }}",
            }, name


def test_zizmor_finds_nothing_unexplained():
    findings = zizmor(Path(".github"), cwd=REPO_ROOT)
    unexplained = [describe(f) for f in findings if finding_key(f) not in EXPLAINED]
    assert unexplained == []
    stale = set(EXPLAINED) - {finding_key(f) for f in findings}
    assert stale == set(), "EXPLAINED lists findings zizmor no longer reports"
    assert all(reason.strip() and "\n" not in reason for reason in EXPLAINED.values())


def test_zizmor_reports_an_unpinned_action_and_a_template_injection(tmp_path: Path):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "name: bad\n"
        "on: pull_request\n"
        "permissions: {}\n"
        "jobs:\n"
        "  greet:\n"
        "    name: greet\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "        with:\n"
        "          persist-credentials: false\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    idents = {f["ident"] for f in zizmor(Path(".github"), cwd=tmp_path)}
    assert {"unpinned-uses", "template-injection"} <= idents
