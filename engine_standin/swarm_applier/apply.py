"""Applying a declared program to the swarm the way ``pulumi up`` with pulumi-docker 5.x does.

State is a JSON file per stack (``state.StackState``), not Docker labels. For
each declared custom resource, in dependency order:

- bridged docker resources: the provider's diff of the new inputs against the
  stored OUTPUTS (``plan``), replacing with ``delete_before_replace``, or
  creating the replacement first for an auto-named secret or config (any other
  replacement is refused); create/update through what
  the provider sends (``provider_spec``), its convergence waits
  (``converge``) and its read-back (``readback``);
- Pulumi dynamic resources: the SDK's own dynamic provider host (``dynamic``);

then the deletes of what is no longer declared, dependents first, and of what
was replaced creating first. The first
error stops the apply, as it stops ``pulumi up``, with the state recorded the
way the engine records it (partial state after a failed bridged update), its
secrets sealed (``state``): the provider gets them in plain text, the state
file, the log and the errors never do.
``refresh=True`` (``pulumi up --refresh``, or ``options: refresh: always`` in
Pulumi.yaml) reads every resource from Docker first; ``refresh`` alone is
``pulumi refresh``, and ``deploy`` what ``make deploy`` runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
import requests
from docker.errors import APIError, DockerException, NotFound
from pulumi.dynamic.dynamic import PROVIDER_KEY

from engine_standin.swarm_applier import converge as cv
from engine_standin.swarm_applier.dynamic import DynamicHost, input_changes, is_dynamic
from engine_standin.swarm_applier.gotime import parse_duration_or_zero
from engine_standin.swarm_applier.plan import ignore_changes, plan
from engine_standin.swarm_applier.provider_spec import config_data, network_create_args, secret_data, service_spec
from engine_standin.swarm_applier.readback import merge_read, read_config, read_network, read_secret, read_service
from engine_standin.swarm_applier.registry_auth import AuthConfig, provider_auth_configs, service_registry_auth
from engine_standin.swarm_applier.report import ApplyError, ApplyReport, Change
from engine_standin.swarm_applier.schema import SCHEMAS
from engine_standin.swarm_applier.state import (
    STATE_DIR,
    ResourceState,
    StackState,
    annotate_secrets,
    open_secrets,
    plain_prior,
    seal_inputs,
    seal_outputs,
)
from engine_standin.swarm_applier.translate import reveal, translate
from offline_runner.mock_program import DeclaredProgram, DeclaredResource, auto_name, mock_id
from offline_runner.resource_types import NETWORK, SECRET, SERVICE, SERVICE_CONFIG
from offline_runner.stack_config import REPO_ROOT, refresh_always
from swarm_zero_downtime.swarm.api_request import get_json, post_json
from swarm_zero_downtime.swarm.image_ref import image_with_digest_string
from swarm_zero_downtime.swarm.refresh import refresh_excludes
from swarm_zero_downtime.swarm.rollout_gate import GATE_TYPE

# resource_docker_network_funcs.go: networkRemoveRefresh* and networkReadRefresh* (Timeout 30s, MinTimeout 5s, Delay 2s).
NETWORK_WAIT = (30.0, 5.0, 2.0)
# The engine's default --parallel (pkg/cmd/pulumi/operations/up.go defaultParallel: 4 x GOMAXPROCS).
ENGINE_PARALLEL = 4 * len(os.sched_getaffinity(0))
POLL_S = 0.5  # remove_network's own retry, for the benchmark's tutorial setups


class ReplacementNotSupported(ApplyError):
    """A change that pulumi-docker would apply by replacing the resource."""


def parse_time(text: str) -> float:
    """Docker's RFC 3339 timestamps (nanoseconds, Z) as epoch seconds."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    if not match:
        raise ValueError(f"unexpected timestamp {text!r}")
    base, fraction, zone = match.groups()
    stamp = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone)).timestamp()
    return stamp + (float(f"0.{fraction}") if fraction else 0.0)


def provider_error_text(message: str) -> str:
    """How the bridge's shim joins the SDK's error diagnostics (pkg/tfshim/sdk-v2 ``handleDiagnostics``: go-multierror)."""
    return f"1 error occurred:\n\t* {message}\n\n"


def digest_warning(image: str) -> str:
    """moby client/service_create.go ``digestWarning``."""
    return (
        f"image {image} could not be accessed on a registry to record\nits digest. Each node will access {image}"
        " independently,\npossibly leading to different nodes running different\nversions of the image.\n"
    )


class SwarmApplier:
    """Applies declared programs for one stack to the swarm behind ``api``, with state in a JSON file."""

    def __init__(
        self,
        api: docker.APIClient,
        stack: str,
        log: Callable[[str], None] | None = None,
        *,
        state_dir: Path = STATE_DIR,
        clock: cv.Clock | None = None,
        project_root: Path = REPO_ROOT,
        dynamic_host: Callable[[], Any] | None = None,
    ):
        self.api = api
        self.stack = stack
        self.log = log or (lambda message: print(f"[applier] {message}", flush=True))
        self.state_dir = state_dir
        self.clock: cv.Clock = clock or cv.RealClock()
        self.project_root = project_root
        self._new_host = dynamic_host or (lambda: DynamicHost(self.project_root, self.log))
        self._host: Any = None
        self._host_lock = threading.Lock()  # the refresh's reads share one host
        self._auths: dict[str, AuthConfig] = {}

    # -- public --------------------------------------------------------------------

    def state(self) -> StackState:
        return StackState.load(self.stack, self.state_dir)

    def apply(self, program: DeclaredProgram, refresh: bool | None = None) -> ApplyReport:
        """``pulumi up``; ``refresh=True`` is ``--refresh``, None reads ``options.refresh`` from Pulumi.yaml."""
        if refresh is None:
            refresh = refresh_always(self.project_root)
        report = ApplyReport()
        # The default provider's registryAuth: what every service create and update sends.
        self._auths = provider_auth_configs(program.config)
        resources = [r for r in program.resources if r.custom]
        for resource in resources:
            if is_dynamic(resource.type):
                if not isinstance(resource.inputs.get(PROVIDER_KEY), str):
                    raise ApplyError(f"{resource.name}: dynamic resource without a serialized {PROVIDER_KEY}")
            else:
                translate(resource)  # everything translates, or nothing is touched
        state = self.state()
        # mock id -> physical id; and the mock's auto-name -> the physical one where a replacement picked another
        real_ids: dict[str, str] = {}
        declared_ids = {mock_id(r.name) for r in resources}
        with self._operation(report):
            if refresh:
                self._refresh(state, report)
            for resource in _topological(resources, {r.urn: r.dependencies for r in resources}):
                inputs = _resolve_ids(resource.inputs, real_ids, declared_ids, resource.name)
                real_ids[mock_id(resource.name)] = self._apply_one(state, resource, inputs, report)
                applied = state.get(resource.urn)
                if applied is not None and resource.inputs.get("name") is None and "name" in applied.outputs:
                    real_ids[auto_name(resource.name)] = applied.outputs["name"]
            declared = {r.urn for r in resources}
            orphans = [e for urn, e in state.resources.items() if urn not in declared]
            for orphan in reversed(_topological(orphans, {e.urn: tuple(e.dependencies) for e in orphans})):
                self._delete(state, orphan, report)
            # pulumi step_generator.go GenerateDeletes: every prior resource marked Delete (replaced
            # creating first, in this run or a failed one) is deleted with the orphans, after every
            # create and update. A replaced secret or config depends on no other resource, and what
            # mounted it has been updated or deleted by now.
            for replaced in list(state.pending_deletes):
                self._delete(state, replaced, report, "delete-replaced")
        return report

    def refresh(self, exclude: Sequence[str] = ()) -> ApplyReport:
        """``pulumi refresh --yes [--exclude PATTERN...]``: read what the state holds, but the excluded URNs."""
        report = ApplyReport()
        with self._operation(report):
            self._refresh(self.state(), report, exclude)
        return report

    @contextlib.contextmanager
    def _operation(self, report: ApplyReport) -> Iterator[None]:
        """One run of the engine: a failure raised as an ApplyError holding ``report`` (the failed step
        marked), the dynamic provider host closed, the report timed and logged."""
        started = time.monotonic()
        try:
            yield
        except (ApplyError, APIError, DockerException, requests.RequestException) as error:
            failure = error if isinstance(error, ApplyError) else ApplyError(f"Docker: {_explain(error)}")
            if report.changes and report.changes[-1].action != "unchanged" and report.changes[-1].error is None:
                report.changes[-1].error = str(failure)
            failure.report = report
            if failure is error:
                raise
            raise failure from error
        finally:
            if self._host is not None:
                self._host.close()
                self._host = None
            report.seconds = time.monotonic() - started
            self.log(str(report))

    def deploy(self, program: DeclaredProgram) -> ApplyReport:
        """What `make deploy` and the deploy workflow run (scripts/pulumi-up.sh): a refresh that leaves out
        swarm/refresh.py's types, then `pulumi up --refresh=false`. The report holds both."""
        refreshed = self.refresh(refresh_excludes())
        report = self.apply(program, refresh=False)
        report.refreshed = refreshed.refreshed
        return report

    def destroy(self, refresh: bool | None = None) -> ApplyReport:
        """``pulumi destroy``: delete everything in the stack's state; refresh as ``apply`` (destroy.go getRefreshOption)."""
        return self.apply(DeclaredProgram(), refresh=refresh)

    def find(self, type_: str, logical_name: str) -> dict[str, Any] | None:
        """The Docker object (inspect output) of a resource in the state, by logical name; None when gone."""
        found = self.state().find(type_, logical_name)
        if found is None:
            return None
        try:
            return self._inspect(found.type, found.id)
        except NotFound:
            return None

    # -- the dynamic provider host ----------------------------------------------------

    @property
    def host(self) -> Any:
        with self._host_lock:
            if self._host is None:
                self._host = self._new_host()
            return self._host

    # -- one resource ---------------------------------------------------------------

    def _apply_one(
        self, state: StackState, resource: DeclaredResource, inputs: dict[str, Any], report: ApplyReport
    ) -> str:
        if is_dynamic(resource.type):
            return self._apply_dynamic(state, resource, inputs, report)
        return self._apply_docker(state, resource, inputs, report)

    def _config(
        self, resource: DeclaredResource, inputs: dict[str, Any], old: ResourceState | None, fresh: bool = False
    ) -> dict[str, Any]:
        """What the provider gets; ``fresh``: checked again without the old inputs, for a replacement
        created first (step_generator.go: "we need to recompute the default values"), so auto-naming
        draws a new random suffix beside the old object's (pulumi resource.NewUniqueHex)."""
        config: dict[str, Any] = reveal(inputs)  # the provider gets secrets in plain text
        if config.get("name") is None:
            # Auto-naming (pulumi-docker SetAutonaming(255, "-")); an existing resource keeps its name:
            # pulumi-terraform-bridge pkg/tfbridge/schema.go applyDefaults, "use the old default".
            if fresh:
                config["name"] = f"{resource.name}-{secrets.token_hex(4)[:7]}"
            else:
                config["name"] = old.outputs.get("name") if old is not None else auto_name(resource.name)
        return config

    def _apply_docker(
        self, state: StackState, resource: DeclaredResource, inputs: dict[str, Any], report: ApplyReport
    ) -> str:
        fields = SCHEMAS[resource.type]
        old = state.get(resource.urn)
        config = self._config(resource, inputs, old)
        if old is None:
            change = Change(resource.urn, resource.type, resource.name, "create")
            report.changes.append(change)
            self.log(f"{change} ...")
            return self._create_recorded(state, resource, inputs, config, change)
        # The engine decrypts the prior state's secrets for the diff; the applier can only match them.
        prior = open_secrets(old.outputs, config)
        diff = ignore_changes(plan(fields, prior, config), prior, self._ignored(resource, old))
        if not diff.changes:
            report.changes.append(Change(resource.urn, resource.type, resource.name, "unchanged"))
            # SameStep: the new inputs with the old outputs.
            state.put(
                dataclasses.replace(
                    old, inputs=seal_inputs(inputs, old.inputs), dependencies=list(resource.dependencies)
                )
            )
            return old.id
        if diff.replaces:
            if resource.delete_before_replace:
                return self._replace_deleting_first(state, resource, inputs, old, diff.paths, diff.replaces, report)
            return self._replace_creating_first(state, resource, inputs, old, diff.paths, diff.replaces, report)
        change = Change(resource.urn, resource.type, resource.name, "update", diff.paths)
        report.changes.append(change)
        if resource.type != SERVICE:
            raise ApplyError(f"{resource.name}: {resource.type} has no update in pulumi-docker")
        self.log(f"{change} ...")
        started = time.monotonic()
        try:
            outputs = self._update_service(old.id, diff.planned)
        except (ApplyError, APIError, DockerException, requests.RequestException) as error:
            # Partial failure: the bridge returns the planned state (old state + diff) as the outputs
            # (pulumi-terraform-bridge pkg/tfbridge/provider.go Provider.Update -> initializationError;
            # terraform-plugin-sdk ResourceData.State()), and the engine keeps the OLD inputs with those
            # outputs (pulumi pkg/engine/update.go OnResourceStepPost). The next diff (new inputs against
            # these outputs) finds no change.
            message = str(error) if isinstance(error, ApplyError) else _explain(error)
            text = f"updating {resource.urn}: {provider_error_text(message)}"
            outputs = seal_outputs(fields, diff.planned, (inputs,), old.outputs)
            state.put(dataclasses.replace(old, outputs=outputs, init_errors=[text]))
            change.seconds = time.monotonic() - started
            raise ApplyError(text) from error
        change.seconds = time.monotonic() - started
        state.put(
            dataclasses.replace(
                old,
                inputs=seal_inputs(inputs, old.inputs),
                outputs=seal_outputs(fields, outputs, (inputs,), old.outputs),
                init_errors=[],
                dependencies=list(resource.dependencies),
            )
        )
        return old.id

    def _create_recorded(
        self,
        state: StackState,
        resource: DeclaredResource,
        inputs: dict[str, Any],
        config: dict[str, Any],
        change: Change,
        replaced: ResourceState | None = None,
    ) -> str:
        """The provider's create of ``config``, recorded in the state (a failure records nothing);
        ``replaced``: the resource it replaces, then kept for its delete after the run's updates."""
        fields = SCHEMAS[resource.type]
        started = time.monotonic()
        try:
            id_, outputs = self._create(resource, plan(fields, None, config).planned)
        finally:
            change.seconds += time.monotonic() - started
        created = ResourceState(
            resource.urn,
            resource.type,
            id_,
            seal_inputs(inputs),
            seal_outputs(fields, outputs, (inputs,)),
            list(resource.dependencies),
            resource.parent,
        )
        if replaced is None:
            state.put(created)
        else:
            state.put_replacement(created, replaced)
        return id_

    def _replace_deleting_first(
        self,
        state: StackState,
        resource: DeclaredResource,
        inputs: dict[str, Any],
        old: ResourceState,
        paths: tuple[str, ...],
        replaces: tuple[str, ...],
        report: ApplyReport,
    ) -> str:
        """A replacement with ``delete_before_replace``, as the engine runs it.

        pulumi pkg/resource/deploy/step_generator.go: a DeleteReplacement step of
        the old resource, then Replace and CreateReplacement; the inputs are
        checked again without the old ones first, so auto-naming picks a name
        afresh (here the same stable one, the old object being gone). A failed
        delete leaves the old resource in the state; a failed create leaves
        none. The resource option wins over the provider's answer (``continueStepsFromDiff``).
        Dependents: ``calculateDependentReplacements`` asks each dependent's
        provider Diff with the inputs that came from the replaced resource
        unknown; a rollout gate's diff never answers replaces (it updates and
        waits for the new service), any other dependent is refused.
        """
        what = f"{resource.name}: changing {', '.join(replaces)} replaces the resource in pulumi-docker"
        dependents = [e.name for e in state.resources.values() if old.urn in e.dependencies and e.type != GATE_TYPE]
        if dependents:
            raise ReplacementNotSupported(
                f"{what}; the engine would ask whether {', '.join(dependents)} must be replaced with it,"
                " which the test applier does not model"
            )
        change = Change(resource.urn, resource.type, resource.name, "replace", paths)
        report.changes.append(change)
        self.log(f"{change} ({old.id}): delete first ...")
        self._delete_recorded(state, old, change)
        self.log(f"{change}: deleted in {change.seconds:.1f}s, creating ...")
        return self._create_recorded(state, resource, inputs, self._config(resource, inputs, None), change)

    def _replace_creating_first(
        self,
        state: StackState,
        resource: DeclaredResource,
        inputs: dict[str, Any],
        old: ResourceState,
        paths: tuple[str, ...],
        replaces: tuple[str, ...],
        report: ApplyReport,
    ) -> str:
        """A replacement without ``delete_before_replace``: the engine's default, modelled for an auto-named
        secret or config.

        The bridge answers deleteBeforeReplace=false for an auto-named resource
        (pulumi-terraform-bridge pkg/tfbridge/provider.go ``Provider.Diff``, schema.go
        ``nameRequiresDeleteBeforeReplace``: only a name the program set asks for
        it), so pulumi pkg/resource/deploy/
        step_generator.go ``continueStepsFromDiff`` takes "CreateBeforeDelete: the
        default mode": the inputs are checked again without the old ones (a new
        auto-name), a CreateReplacement step creates the new object, which marks the
        old one Delete in the state (step.go ``CreateStep.Apply``: ``s.old.Delete =
        true``); dependents then diff against the new outputs as any update does
        (no dependent replacement is asked, unlike delete_before_replace), and
        ``GenerateDeletes`` deletes the old one after every create and update.
        A failed create leaves the old resource as it was. A service or network
        replaced creating first (its name, its converge wait) is not modelled.
        """
        what = f"{resource.name}: changing {', '.join(replaces)} replaces the resource in pulumi-docker"
        if resource.type not in (SECRET, SERVICE_CONFIG):
            raise ReplacementNotSupported(
                f"{what}, creating the new one first; the test applier models that only for secrets and configs"
            )
        if resource.inputs.get("name") is not None:
            raise ReplacementNotSupported(
                f"{what}; under a fixed name the bridge asks to delete it first, which the test applier"
                " models only with delete_before_replace"
            )
        change = Change(resource.urn, resource.type, resource.name, "replace", paths)
        report.changes.append(change)
        self.log(f"{change} ({old.id}): creating the new one first ...")
        return self._create_recorded(state, resource, inputs, self._config(resource, inputs, None, True), change, old)

    @staticmethod
    def _ignored(resource: DeclaredResource, old: ResourceState) -> tuple[str, ...]:
        """The resource's ignoreChanges, for the provider's diff.

        The engine first copies the old inputs' values at those paths onto the new
        inputs (step_generator.go ``processIgnoreChanges``, ``PropertyPath.Reset``);
        that is modelled only where neither the old nor the new inputs set
        anything there, and refused otherwise."""
        for path in resource.ignore_changes:
            for which, inputs in (("old", old.inputs), ("new", resource.inputs)):
                value: Any = inputs
                for key in path.split("."):
                    value = value.get(key) if isinstance(value, dict) else None
                if value is not None:
                    raise ApplyError(
                        f"{resource.name}: ignoreChanges on {path}, which its {which} inputs set, is not modelled"
                    )
        return resource.ignore_changes

    def _create(self, resource: DeclaredResource, planned: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if resource.type == SERVICE:
            return self._create_service(planned)
        if resource.type == NETWORK:
            # resourceDockerNetworkCreate, then resourceDockerNetworkRead.
            id_ = self.api.create_network(**network_create_args(planned))["Id"]
            return id_, self._read_network(id_, planned) or planned
        labels = {item["label"]: item["value"] for item in planned.get("labels") or []} or None
        if resource.type == SECRET:
            # resourceDockerSecretCreate (SecretCreate; labels only when set: d.GetOk), then resourceDockerSecretRead.
            id_ = self.api.create_secret(planned["name"], secret_data(planned), labels=labels)["ID"]
            return id_, read_secret(self.api.inspect_secret(id_), planned)
        # resourceDockerConfigCreate, then resourceDockerConfigRead.
        id_ = self.api.create_config(planned["name"], config_data(planned), labels=labels)["ID"]
        return id_, read_config(self.api.inspect_config(id_), planned)

    # -- services ---------------------------------------------------------------------

    def _post_service(self, path: str, spec: dict[str, Any], params: dict[str, Any] | None = None) -> Any:
        """The Go client's ServiceCreate or ServiceUpdate: the spec with the provider's ``X-Registry-Auth``
        (``retrieveAndMarshalAuth``, sent even when empty)."""
        header = service_registry_auth(spec["TaskTemplate"]["ContainerSpec"]["Image"], self._auths)
        return post_json(self.api, path, spec, header, params)

    def _pin_image(self, spec: dict[str, Any]) -> None:
        """QueryRegistry on create (moby client service_create.go resolveContainerSpecImage)."""
        task = spec["TaskTemplate"]
        image = task["ContainerSpec"]["Image"]
        try:
            # DistributionInspect: GET /distribution/{image}/json, with the create's X-Registry-Auth.
            distribution = get_json(self.api, f"/distribution/{image}/json", service_registry_auth(image, self._auths))
        except (APIError, DockerException, requests.RequestException) as error:
            # Not pinned; the create goes on with the tagged reference and this warning.
            self.log(f"warning: {digest_warning(image).strip()} ({_explain(error)})")
            return
        task["ContainerSpec"]["Image"] = image_with_digest_string(image, distribution["Descriptor"]["digest"])
        platforms = [
            {
                "Architecture": "" if (p.get("architecture") or "").lower() == "arm" else p.get("architecture", ""),
                "OS": p.get("os", ""),
            }
            for p in distribution.get("Platforms") or []
        ]
        if platforms:
            task.setdefault("Placement", {})["Platforms"] = platforms

    def _create_service(self, planned: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """resourceDockerServiceCreate: create with QueryRegistry, converge, delete on failure, read back."""
        spec = service_spec(planned)
        self._pin_image(spec)
        service_id = self._post_service("/services/create", spec)["ID"]
        converge = planned.get("convergeConfig")
        if converge:
            timeout_raw = converge.get("timeout", "")
            conf = self._converge_conf(
                service_id,
                converge,
                cv.SERVICE_CREATE_PENDING,
                cv.SERVICE_CREATE_TARGET,
                cv.create_refresh,
                delay=parse_duration_or_zero(converge.get("delay", "")) / 1e9,
            )
            try:
                cv.wait_for_state(conf, self.clock)
            except cv.ProviderError as error:
                # "the service will be deleted in case it cannot be converged"
                self._delete_service(service_id, planned)
                if isinstance(error, cv.WaitTimeout):
                    raise cv.ProviderError(provider_error_text(cv.did_not_converge(service_id, timeout_raw))) from error
                raise cv.ProviderError(provider_error_text(str(error))) from error
        outputs = self._read_service(service_id, planned)
        if outputs is None:
            raise cv.ProviderError(f"service {service_id} is gone right after its create")
        return service_id, outputs

    def _update_service(self, service_id: str, planned: dict[str, Any]) -> dict[str, Any]:
        """resourceDockerServiceUpdate: full spec at the current version, no QueryRegistry, converge, read back."""
        current = self.api.inspect_service(service_id)
        spec = service_spec(planned)
        response = self._post_service(
            f"/services/{service_id}/update", spec, params={"version": current["Version"]["Index"]}
        )
        for warning in (response or {}).get("Warnings") or []:
            self.log(f"warning while updating service {service_id}: {warning}")
        converge = planned.get("convergeConfig")
        if converge:
            timeout_raw = converge.get("timeout", "")
            conf = self._converge_conf(
                service_id,
                converge,
                cv.SERVICE_UPDATE_PENDING,
                cv.SERVICE_UPDATE_TARGET,
                cv.update_refresh,
                delay=cv.UPDATE_CONVERGE_DELAY_S,
            )
            try:
                cv.wait_for_state(conf, self.clock)
            except cv.WaitTimeout as error:
                raise cv.ProviderError(cv.did_not_converge(service_id, timeout_raw)) from error
        outputs = self._read_service(service_id, planned)
        if outputs is None:
            raise cv.ProviderError(f"service {service_id} is gone after its update")
        return outputs

    def _converge_conf(
        self,
        service_id: str,
        converge: dict[str, Any],
        pending: Any,
        target: Any,
        decide: Callable[[dict[str, Any], cv.TasksAndNodes], Any],
        delay: float,
    ) -> cv.StateChangeConf:
        """The provider's StateChangeConf for a create or an update: only the states, refresh func and first wait differ."""
        return cv.StateChangeConf(
            pending=pending,
            target=target,
            refresh=lambda: (
                service_id,
                decide(self.api.inspect_service(service_id), self._tasks_and_nodes(service_id)),
            ),
            timeout=parse_duration_or_zero(converge.get("timeout", "")) / 1e9,
            min_timeout=cv.CONVERGE_MIN_TIMEOUT_S,
            delay=delay,
        )

    def _tasks_and_nodes(self, service_id: str) -> cv.TasksAndNodes:
        def fetch() -> tuple[list[dict[str, Any]], set[str]]:
            tasks = self.api.tasks(filters={"service": service_id, "desired-state": "running"})
            # getActiveNodes: every node whose state is not "down".
            nodes = {n["ID"] for n in self.api.nodes() if (n.get("Status") or {}).get("State") != "down"}
            return tasks, nodes

        return fetch

    def _read_service(self, service_id: str, state: dict[str, Any]) -> dict[str, Any] | None:
        """resourceDockerServiceRead: Delay 2s, then until the endpoint spec shows; None when removed."""

        def refresh() -> tuple[Any, str]:
            # fetchDockerService: the service with this ID, or else one with the state's name.
            found = next(
                (s for s in self.api.services() if s["ID"] == service_id or s["Spec"]["Name"] == state.get("name")),
                None,
            )
            if found is None:
                return None, "removed"
            read = read_service(self.api.inspect_service(found["ID"]))
            if read is None:
                return None, "pending"
            return (found["ID"], read), "all_fields"

        conf = cv.StateChangeConf(
            ("pending",), ("all_fields", "removed"), refresh, cv.READ_TIMEOUT_S, cv.READ_MIN_TIMEOUT_S, cv.READ_DELAY_S
        )
        result, status = cv.wait_for_state(conf, self.clock)
        if status == "removed":
            return None
        _, read = result
        return merge_read(state, read)

    # -- networks and configs -----------------------------------------------------------

    def _read_network(self, network_id: str, state: dict[str, Any]) -> dict[str, Any] | None:
        """resourceDockerNetworkRead."""

        def refresh() -> tuple[Any, str]:
            try:
                network = self.api.inspect_network(network_id)
            except APIError:
                return network_id, "removed"
            if network.get("Scope") == "overlay" and not network.get("Options"):
                return network_id, "pending"
            return network, "all_fields"

        timeout, min_timeout, delay = NETWORK_WAIT
        result, status = cv.wait_for_state(
            cv.StateChangeConf(("pending",), ("all_fields", "removed"), refresh, timeout, min_timeout, delay),
            self.clock,
        )
        if status == "removed":
            return None
        return merge_read(state, read_network(result))

    # -- refresh --------------------------------------------------------------------

    def _refresh(self, state: StackState, report: ApplyReport, exclude: Sequence[str] = ()) -> None:
        """Read every resource in the state but the excluded: gone -> dropped, drift -> the state takes it.

        Excluded resources are not read at all (pulumi pkg/resource/deploy/deployment_executor.go
        ``refresh``: no RefreshStep for a URN that ``opts.Excludes`` contains). The reads run side by
        side, as the engine runs its refresh steps (``stepExec.ExecuteParallel``, ``--parallel``
        workers, by default 4 x GOMAXPROCS: pkg/cmd/pulumi/operations/up.go ``defaultParallel``); each
        finished read is kept, and the first failure, in state order, fails the refresh."""
        # The snapshot's resources, those pending delete after a replacement too.
        every = [*state.resources.values(), *state.pending_deletes]
        resources = [r for r in every if not any(urn_matches(p, r.urn) for p in exclude)]
        with ThreadPoolExecutor(max_workers=ENGINE_PARALLEL) as pool:
            reads = [(res, pool.submit(self._read, res)) for res in resources]
        failures = [error for _, read in reads if (error := read.exception()) is not None]
        for res, read in reads:
            if read.exception() is None:
                self._take_read(state, report, res, *read.result())
        if failures:
            raise failures[0]

    def _read(self, res: ResourceState) -> tuple[dict[str, Any] | None, dict[str, Any], float]:
        """One refresh step: the provider's Read of ``res`` (None: gone), its inputs after it, and its seconds."""
        started = time.monotonic()
        if is_dynamic(res.type):
            id_, outputs, inputs = self.host.read(res.id, res.urn, res.outputs, res.inputs)
            read: dict[str, Any] | None = outputs if id_ else None
            new_inputs = inputs if inputs is not None else res.inputs
        elif res.type == SERVICE:
            read, new_inputs = self._read_service(res.id, res.outputs), res.inputs
        elif res.type == NETWORK:
            read, new_inputs = self._read_network(res.id, res.outputs), res.inputs
        elif res.type == SECRET:
            try:
                read = read_secret(self.api.inspect_secret(res.id), res.outputs)
            except APIError:  # resourceDockerSecretRead: any inspect error removes it from the state
                read = None
            new_inputs = res.inputs
        else:
            try:
                read = read_config(self.api.inspect_config(res.id), res.outputs)
            except APIError:  # resourceDockerConfigRead: any inspect error removes it from the state
                read = None
            new_inputs = res.inputs
        if read is not None and not is_dynamic(res.type):
            # Read gets no secrets: the engine marks again what the prior state had secret (annotateSecrets).
            read = seal_outputs(SCHEMAS[res.type], read, (res.outputs,), res.outputs)
        return read, new_inputs, time.monotonic() - started

    @staticmethod
    def _take_read(
        state: StackState,
        report: ApplyReport,
        res: ResourceState,
        read: dict[str, Any] | None,
        new_inputs: dict[str, Any],
        seconds: float,
    ) -> None:
        if read is None:
            state.forget(res)
            report.refreshed.append(Change(res.urn, res.type, res.name, "gone", (), seconds))
            return
        drift = tuple(_changed_keys(res.outputs, read))
        if drift:
            report.refreshed.append(Change(res.urn, res.type, res.name, "drifted", drift, seconds))
        state.replace(res, dataclasses.replace(res, outputs=read, inputs=new_inputs))

    # -- dynamic resources -------------------------------------------------------------

    def _apply_dynamic(
        self, state: StackState, resource: DeclaredResource, inputs: dict[str, Any], report: ApplyReport
    ) -> str:
        if resource.ignore_changes:
            raise ApplyError(f"{resource.name}: ignoreChanges on a dynamic resource is not modelled")
        old = state.get(resource.urn)
        host = self.host
        # The SDK's host answers Configure with acceptSecrets False (pulumi/dynamic/__main__.py), so the
        # engine sends it every secret as its plain value and marks secret again whatever comes back under
        # an input's name (pkg/resource/plugin/provider_plugin.go annotateSecrets); the state keeps them sealed.
        plain = reveal(inputs)
        checked = host.check(resource.urn, plain_prior(old.inputs, plain) if old else {}, plain)
        news = annotate_secrets(checked, inputs)
        if old is None:
            change = Change(resource.urn, resource.type, resource.name, "create")
            report.changes.append(change)
            self.log(f"{change} ...")
            started = time.monotonic()
            try:
                id_, outputs = host.create(resource.urn, checked)  # a failure records nothing
            finally:
                change.seconds = time.monotonic() - started
            state.put(
                ResourceState(
                    resource.urn,
                    resource.type,
                    id_,
                    seal_inputs(news),
                    seal_outputs((), outputs, (news,)),
                    list(resource.dependencies),
                    resource.parent,
                )
            )
            return str(id_)
        old_outputs, old_inputs = plain_prior(old.outputs, checked), plain_prior(old.inputs, checked)
        answer = host.diff(old.id, resource.urn, old_outputs, checked, old_inputs)
        paths = input_changes(old_inputs, checked)
        changed = answer.changes == "some" or (answer.changes == "unknown" and bool(paths))
        if not changed:
            report.changes.append(Change(resource.urn, resource.type, resource.name, "unchanged"))
            state.put(
                dataclasses.replace(old, inputs=seal_inputs(news, old.inputs), dependencies=list(resource.dependencies))
            )
            return old.id
        change = Change(resource.urn, resource.type, resource.name, "update", paths)
        report.changes.append(change)
        if answer.replaces:
            raise ReplacementNotSupported(
                f"{resource.name}: the dynamic provider replaces it for {', '.join(answer.replaces)};"
                " the test applier does not do replacements"
            )
        self.log(f"{change} ...")
        started = time.monotonic()
        try:
            # A failure leaves the state as it was: the host has no partial-state answer.
            outputs = host.update(old.id, resource.urn, old_outputs, checked, old_inputs)
        finally:
            change.seconds = time.monotonic() - started
        state.put(
            dataclasses.replace(
                old,
                inputs=seal_inputs(news, old.inputs),
                outputs=seal_outputs((), outputs, (news,), old.outputs),
                dependencies=list(resource.dependencies),
            )
        )
        return old.id

    # -- delete ---------------------------------------------------------------------

    def _delete(self, state: StackState, e: ResourceState, report: ApplyReport, action: str = "delete") -> None:
        change = Change(e.urn, e.type, e.name, action)
        report.changes.append(change)
        self.log(f"{change} ({e.id}) ...")
        self._delete_recorded(state, e, change)

    def _delete_recorded(self, state: StackState, e: ResourceState, change: Change) -> None:
        """The provider's delete of ``e``, timed into ``change``; dropped from the state once it succeeded."""
        started = time.monotonic()
        try:
            if is_dynamic(e.type):
                self.host.delete(e.id, e.urn, e.outputs, e.inputs)
            elif e.type == SERVICE:
                self._delete_service(e.id, e.outputs)
            elif e.type == SERVICE_CONFIG:
                self.api.remove_config(e.id)  # resourceDockerConfigDelete: Docker refuses while a service uses it
            elif e.type == SECRET:
                # resourceDockerSecretDelete: SecretRemove, its error returned as is, no retry. Docker refuses
                # ("secret ... is in use by the following service") while a service spec references it; the
                # resource stays in the state and the next apply tries the delete again.
                self.api.remove_secret(e.id)
            else:
                self._delete_network(e.id)
        finally:
            change.seconds += time.monotonic() - started
        state.forget(e)

    def _delete_service(self, service_id: str, state: dict[str, Any]) -> None:
        """deleteService: with a stop_grace_period, wait that long per container for its removal, then force it."""
        grace = ((state.get("taskSpec") or {}).get("containerSpec") or {}).get("stopGracePeriod")
        waits = bool(grace) and grace != "0s"
        containers: list[str] = []
        if waits:
            for listed in self.api.tasks(filters={"service": state.get("name", "")}):
                task = self.api.inspect_task(listed["ID"])
                container = ((task.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID", "")
                if container.strip() and task["Status"]["State"] != "shutdown":
                    containers.append(container)
        try:
            self.api.remove_service(service_id)
        except APIError as error:
            raise cv.ProviderError(f"Error deleting service with ID '{service_id}': {_explain(error)}") from error
        if not waits:
            return
        for container in containers:
            self.log(f"waiting up to {grace} for container {container[:12]} to be removed")
            try:
                self.api.wait(
                    container, timeout=math.ceil(parse_duration_or_zero(grace or "") / 1e9), condition="removed"
                )
            except APIError as error:
                if "No such container" not in str(error):
                    raise cv.ProviderError(
                        f"failed to wait for container with ID '{container}': '{_explain(error)}'"
                    ) from error
            except requests.RequestException as error:
                # The wait's context deadline (stop_grace_period) passed before Docker removed the container.
                raise cv.ProviderError(
                    f"error on wait for container with ID '{container}': context deadline exceeded"
                ) from error
            try:
                self.api.remove_container(container, v=True, force=True)
            except APIError as error:
                if "No such container" not in str(error) and "is already in progress" not in str(error):
                    raise cv.ProviderError(
                        f"Error deleting container with ID '{container}': {_explain(error)}"
                    ) from error

    def _delete_network(self, network_id: str) -> None:
        """resourceDockerNetworkDelete: retried while the network has active endpoints (Delay 2s, then 5s, 10s...)."""

        def refresh() -> tuple[Any, str]:
            try:
                self.api.inspect_network(network_id)
            except APIError:
                return network_id, "removed"
            try:
                self.api.remove_network(network_id)
            except APIError as error:
                if "has active endpoints" in str(error):
                    return network_id, "pending"
                raise cv.ProviderError(_explain(error)) from error
            return network_id, "removed"

        timeout, min_timeout, delay = NETWORK_WAIT
        cv.wait_for_state(
            cv.StateChangeConf(("pending",), ("removed",), refresh, timeout, min_timeout, delay), self.clock
        )

    def _inspect(self, type_: str, id_: str) -> dict[str, Any]:
        if type_ == SERVICE:
            return dict(self.api.inspect_service(id_))
        if type_ == SERVICE_CONFIG:
            return dict(self.api.inspect_config(id_))
        if type_ == SECRET:
            return dict(self.api.inspect_secret(id_))
        if type_ == NETWORK:
            return dict(self.api.inspect_network(id_))
        raise NotFound(f"{type_} is not a Docker object")


def urn_matches(pattern: str, urn: str) -> bool:
    """A ``--target``/``--exclude`` pattern as the engine matches it (pulumi pkg/resource/deploy/deployment.go
    ``NewUrnTargets``, ``UrnTargets.getMatcher``): without ``*`` the URN itself; else ``**`` matches
    anything and ``*`` anything but ``:``, the whole URN."""
    if "*" not in pattern:
        return pattern == urn
    parts = ["[^:]*".join(re.escape(piece) for piece in part.split("*")) for part in pattern.split("**")]
    return re.fullmatch(".*".join(parts), urn) is not None


def remove_network(api: docker.APIClient, network_id: str) -> None:
    """Remove a network, waiting out the endpoints of just-removed tasks (a helper for the benchmark's tutorial setups)."""
    deadline = time.monotonic() + 30.0
    while True:
        try:
            api.remove_network(network_id)
            return
        except NotFound:
            return
        except APIError as error:
            if "active endpoints" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(POLL_S)


def _explain(error: Exception) -> str:
    if isinstance(error, APIError):
        return str(error.explanation or error)
    return str(error)


def _changed_keys(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    out: list[str] = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        where = f"{path}.{key}" if path else key
        if isinstance(a, dict) and isinstance(b, dict):
            out += _changed_keys(a, b, where)
        elif a != b:
            out.append(where)
    return out


def _resolve_ids(value: Any, real_ids: dict[str, str], declared_ids: set[str], owner: str) -> Any:
    """Replace the mock ids of other resources (id-of-<name>) with their physical ids, and their mock
    auto-names with the physical names (another after a replacement created first)."""
    if isinstance(value, dict):
        return {k: _resolve_ids(v, real_ids, declared_ids, owner) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_ids(v, real_ids, declared_ids, owner) for v in value]
    if isinstance(value, str) and value in real_ids:
        return real_ids[value]
    if isinstance(value, str) and value.startswith(mock_id("")):
        if value not in real_ids:
            known = "declared but not applied before it (missing dependency?)" if value in declared_ids else "unknown"
            raise ApplyError(f"{owner}: input refers to {value}, which is {known}")
        return real_ids[value]
    return value


def _topological(items: list[Any], dependencies: dict[str, tuple[str, ...]]) -> list[Any]:
    """Items ordered so that each comes after the items it depends on (stable)."""
    by_urn = {i.urn: i for i in items}
    done: dict[str, None] = {}
    visiting: set[str] = set()

    def visit(urn: str) -> None:
        if urn in done:
            return
        if urn in visiting:
            raise ApplyError(f"dependency cycle through {urn}")
        visiting.add(urn)
        for dep in dependencies.get(urn, ()):
            if dep in by_urn:  # component resources and unmanaged objects are not ordered here
                visit(dep)
        visiting.discard(urn)
        done[urn] = None

    for urn in by_urn:
        visit(urn)
    return [by_urn[urn] for urn in done]
