"""Applying a declared program to the swarm: state from labels, ordering, create/update/delete, convergence."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import docker
from docker.errors import APIError, NotFound

from standins.mock_program import DeclaredProgram, DeclaredResource, mock_id
from standins.resource_types import NETWORK, SERVICE, SERVICE_CONFIG
from standins.swarm_applier.report import ApplyError, ApplyReport, Change
from standins.swarm_applier.translate import Converge, ServicePlan, _duration, changed_paths, translate

LABEL_PREFIX = "szd.e2e-applier"
LABEL_STACK = f"{LABEL_PREFIX}.stack"
LABEL_URN = f"{LABEL_PREFIX}.urn"
LABEL_DEPENDENCIES = f"{LABEL_PREFIX}.dependencies"
LABEL_INPUTS = f"{LABEL_PREFIX}.inputs"

# Input paths whose change makes pulumi-docker replace the resource (ForceNew in
# kreuzwerker/terraform-provider-docker). `mode` is ForceNew at block level;
# whether a replicas change replaces is unconfirmed, so it is refused as well.
REPLACE_PATHS = {
    SERVICE: ("name", "auth", "taskSpec.containerSpec.hosts", "mode"),
    NETWORK: ("",),  # every network input is ForceNew
    SERVICE_CONFIG: ("",),  # configs are immutable
}

# pulumi-docker waits this long after a service update before its first poll; a
# rolling update shows a new UpdateStatus well within it.
UPDATE_START_GRACE_S = 7.0
POLL_S = 0.5


class ReplacementNotSupported(ApplyError):
    """A change that pulumi-docker would apply by replacing the resource."""


@dataclass
class _Existing:
    type: str
    id: str
    name: str
    urn: str
    dependencies: list[str]
    inputs: dict


def parse_time(text: str) -> float:
    """Docker's RFC 3339 timestamps (nanoseconds, Z) as epoch seconds."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", text)
    if not match:
        raise ValueError(f"unexpected timestamp {text!r}")
    base, fraction, zone = match.groups()
    stamp = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone)).timestamp()
    return stamp + (float(f"0.{fraction}") if fraction else 0.0)


class SwarmApplier:
    """Applies declared programs for one stack to the swarm behind ``api``."""

    def __init__(self, api: docker.APIClient, stack: str, log: Callable[[str], None] | None = None):
        self.api = api
        self.stack = stack
        self.log = log or (lambda message: print(f"[applier] {message}", flush=True))

    # -- public --------------------------------------------------------------------

    def apply(self, program: DeclaredProgram) -> ApplyReport:
        started = time.monotonic()
        report = ApplyReport()
        resources = [r for r in program.resources if r.custom]
        for resource in resources:
            translate(resource)  # everything translates, or nothing is touched
        existing = self._existing()
        real_ids: dict[str, str] = {}  # mock id -> Docker id
        declared_ids = {mock_id(r.name) for r in resources}
        try:
            for resource in _topological(resources, {r.urn: r.dependencies for r in resources}):
                inputs = _resolve_ids(resource.inputs, real_ids, declared_ids, resource.name)
                real_ids[mock_id(resource.name)] = self._apply_one(resource, inputs, existing.get(resource.urn), report)
            declared = {r.urn for r in resources}
            orphans = [e for urn, e in existing.items() if urn not in declared]
            for orphan in reversed(_topological(orphans, {e.urn: e.dependencies for e in orphans})):
                self._delete(orphan, report)
        except (ApplyError, APIError) as error:
            failure = error if isinstance(error, ApplyError) else ApplyError(f"Docker: {error.explanation or error}")
            if report.changes and report.changes[-1].action != "unchanged":
                report.changes[-1].error = str(failure)
            failure.report = report
            if failure is error:
                raise
            raise failure from error
        finally:
            report.seconds = time.monotonic() - started
            self.log(str(report))
        return report

    def destroy(self) -> ApplyReport:
        """Delete everything this stack's applier created (an empty program)."""
        return self.apply(DeclaredProgram())

    def find(self, type_: str, logical_name: str) -> dict | None:
        """The Docker object (inspect output) of a declared resource, by logical name."""
        for e in self._existing().values():
            if e.type == type_ and e.urn.endswith(f"::{logical_name}"):
                return self._inspect(e.type, e.id)
        return None

    # -- one resource ---------------------------------------------------------------

    def _apply_one(self, resource: DeclaredResource, inputs: dict, old: _Existing | None, report: ApplyReport) -> str:
        """Create or update one resource (recorded in ``report`` first); returns its Docker id."""
        change = Change(resource.urn, resource.type, resource.name, "create")
        if old is not None:
            paths = tuple(changed_paths(old.inputs, inputs))
            change = Change(resource.urn, resource.type, resource.name, "update" if paths else "unchanged", paths)
        report.changes.append(change)
        if old is not None and change.action == "unchanged":
            return old.id
        forcing = [p for p in change.paths if any(_within(p, f) for f in REPLACE_PATHS[resource.type])]
        if forcing:
            raise ReplacementNotSupported(
                f"{resource.name}: changing {', '.join(forcing)} replaces the resource in pulumi-docker;"
                " the test applier does not do replacements"
            )
        labels = {
            LABEL_STACK: self.stack,
            LABEL_URN: resource.urn,
            LABEL_DEPENDENCIES: json.dumps(sorted(resource.dependencies)),
            LABEL_INPUTS: json.dumps(inputs, sort_keys=True),
        }
        target = translate(dataclasses.replace(resource, inputs=inputs))
        self.log(f"{change} ...")
        started = time.monotonic()
        try:
            if resource.type == NETWORK:
                return self.api.create_network(**{**target, "labels": {**target["labels"], **labels}})["Id"]
            if resource.type == SERVICE_CONFIG:
                return self.api.create_config(target["name"], target["data"], labels=labels)["ID"]
            if old is None:
                return self._create_service(target, labels)
            return self._update_service(old.id, target, labels)
        finally:
            change.seconds = time.monotonic() - started

    def _service_args(self, plan: ServicePlan, labels: dict) -> dict:
        spec = plan.spec
        return {
            "task_template": spec["TaskTemplate"],
            "name": spec["Name"],
            "labels": {**plan.labels, **labels},
            "mode": spec["Mode"],
            "update_config": spec.get("UpdateConfig"),
            "rollback_config": spec.get("RollbackConfig"),
            "endpoint_spec": spec.get("EndpointSpec"),
        }

    def _create_service(self, plan: ServicePlan, labels: dict) -> str:
        service_id = self.api.create_service(**self._service_args(plan, labels))["ID"]
        if plan.converge:
            try:
                self._await_tasks(service_id, plan.converge, time.monotonic())
            except ApplyError:
                # pulumi-docker deletes a service that did not converge on create.
                self.api.remove_service(service_id)
                raise
        return service_id

    def _update_service(self, service_id: str, plan: ServicePlan, labels: dict) -> str:
        current = self.api.inspect_service(service_id)
        before = (current.get("UpdateStatus") or {}).get("StartedAt")
        self.api.update_service(
            service_id, current["Version"]["Index"], fetch_current_spec=False, **self._service_args(plan, labels)
        )
        if plan.converge:
            self._await_update(service_id, plan.converge, before)
        return service_id

    # -- convergence ----------------------------------------------------------------

    def _await_update(self, service_id: str, converge: Converge, status_before: str | None) -> None:
        """Until Swarm completes the rolling update this update started; its failure raises."""
        started = time.monotonic()
        why = ""  # Swarm's reason for a rollback, shown while it runs
        time.sleep(min(converge.delay_s, UPDATE_START_GRACE_S))
        while True:
            service = self.api.inspect_service(service_id)
            status = service.get("UpdateStatus") or {}
            name = service["Spec"]["Name"]
            if status.get("StartedAt") and status.get("StartedAt") != status_before:
                state, message = status.get("State"), status.get("Message", "")
                if state == "rollback_started":
                    why = f" ({message})"
                if state == "completed":
                    return
                if state == "rollback_completed":
                    raise ApplyError(f"{name}: service rollback completed: {message}{why}")
                if state == "paused":
                    raise ApplyError(f"{name}: service update paused: {message}")
                if state == "rollback_paused":
                    raise ApplyError(f"{name}: service rollback paused: {message}")
            elif time.monotonic() - started > UPDATE_START_GRACE_S:
                # The change did not touch the tasks (labels, update_config...): no rollout.
                self._await_tasks(service_id, converge, started)
                return
            if time.monotonic() - started > converge.timeout_s:
                raise ApplyError(f"{name}: service did not converge after {converge.timeout_s:g}s ({status})")
            time.sleep(POLL_S)

    def _await_tasks(self, service_id: str, converge: Converge, started: float) -> None:
        """Until every replica slot has a running task (pulumi-docker's create check)."""
        time.sleep(max(0.0, converge.delay_s - (time.monotonic() - started)))
        while True:
            service = self.api.inspect_service(service_id)
            replicas = service["Spec"]["Mode"].get("Replicated", {}).get("Replicas")
            if replicas is None:
                raise ApplyError(f"{service['Spec']['Name']}: converge needs a replicated service")
            tasks = self.api.tasks(filters={"service": service_id, "desired-state": "running"})
            running = {t["Slot"] for t in tasks if t["Status"]["State"] == "running"}
            pending = {t["Slot"] for t in tasks if t["Status"]["State"] != "running"}
            if len(running - pending) == replicas:
                return
            if time.monotonic() - started > converge.timeout_s:
                raise ApplyError(
                    f"{service['Spec']['Name']}: service did not converge after {converge.timeout_s:g}s"
                    f" ({len(running - pending)}/{replicas} running)"
                )
            time.sleep(POLL_S)

    # -- delete ---------------------------------------------------------------------

    def _delete(self, e: _Existing, report: ApplyReport) -> None:
        change = Change(e.urn, e.type, e.urn.rsplit("::", 1)[-1], "delete")
        report.changes.append(change)
        self.log(f"{change} ({e.name}) ...")
        started = time.monotonic()
        if e.type == SERVICE:
            self._delete_service(e)
        elif e.type == SERVICE_CONFIG:
            users = [s["Spec"]["Name"] for s in self.api.services() if _uses_config(s, e.id)]
            if users:
                raise ApplyError(f"config {e.name} is still used by {', '.join(users)}")
            self.api.remove_config(e.id)
        else:
            self._delete_network(e)
        change.seconds = time.monotonic() - started

    def _delete_service(self, e: _Existing) -> None:
        # Like pulumi-docker: remove, then wait out the stop grace period for the
        # containers to go, then force-remove what is left.
        grace_text = e.inputs.get("taskSpec", {}).get("containerSpec", {}).get("stopGracePeriod")
        grace = _duration(grace_text, "stopGracePeriod") / 1e9 if grace_text else 0.0
        containers = [
            t["Status"]["ContainerStatus"]["ContainerID"]
            for t in self.api.tasks(filters={"service": e.id})
            if t["Status"]["State"] != "shutdown" and t["Status"].get("ContainerStatus", {}).get("ContainerID")
        ]
        self.api.remove_service(e.id)
        deadline = time.monotonic() + grace + 5.0  # + slack for Swarm to stop the task
        for container in containers:
            while time.monotonic() < deadline and self._container_exists(container):
                time.sleep(POLL_S)
            try:
                self.api.remove_container(container, force=True, v=True)
            except NotFound:
                pass
            except APIError as error:
                if "already in progress" not in str(error):
                    raise

    def _container_exists(self, container_id: str) -> bool:
        try:
            self.api.inspect_container(container_id)
            return True
        except NotFound:
            return False

    def _delete_network(self, e: _Existing) -> None:
        remove_network(self.api, e.id)

    # -- reading the swarm ------------------------------------------------------------

    def _existing(self) -> dict[str, _Existing]:
        selector = {"label": [f"{LABEL_STACK}={self.stack}"]}
        found = []
        for n in self.api.networks(filters=selector):
            found.append((NETWORK, n["Id"], n["Name"], n.get("Labels") or {}))
        for c in self.api.configs(filters=selector):
            found.append((SERVICE_CONFIG, c["ID"], c["Spec"]["Name"], c["Spec"].get("Labels") or {}))
        for s in self.api.services(filters=selector):
            found.append((SERVICE, s["ID"], s["Spec"]["Name"], s["Spec"].get("Labels") or {}))
        existing = {}
        for type_, id_, name, labels in found:
            try:
                urn = labels[LABEL_URN]
                existing[urn] = _Existing(
                    type_, id_, name, urn, json.loads(labels[LABEL_DEPENDENCIES]), json.loads(labels[LABEL_INPUTS])
                )
            except (KeyError, ValueError) as error:
                raise ApplyError(f"{type_} {name} carries {LABEL_STACK} but broken applier labels: {error}") from None
        return existing

    def _inspect(self, type_: str, id_: str) -> dict:
        if type_ == SERVICE:
            return self.api.inspect_service(id_)
        if type_ == SERVICE_CONFIG:
            return self.api.inspect_config(id_)
        return self.api.inspect_network(id_)


def remove_network(api: docker.APIClient, network_id: str) -> None:
    """Remove a network, waiting out the endpoints of just-removed tasks."""
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


def _within(path: str, prefix: str) -> bool:
    return prefix == "" or path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))


def _uses_config(service: dict, config_id: str) -> bool:
    configs = service["Spec"]["TaskTemplate"].get("ContainerSpec", {}).get("Configs") or []
    return any(c.get("ConfigID") == config_id for c in configs)


def _resolve_ids(value: Any, real_ids: dict[str, str], declared_ids: set[str], owner: str) -> Any:
    """Replace the mock ids of other resources (id-of-<name>) with their Docker ids."""
    if isinstance(value, dict):
        return {k: _resolve_ids(v, real_ids, declared_ids, owner) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_ids(v, real_ids, declared_ids, owner) for v in value]
    if isinstance(value, str) and value.startswith(mock_id("")):
        if value not in real_ids:
            known = "declared but not applied before it (missing dependency?)" if value in declared_ids else "unknown"
            raise ApplyError(f"{owner}: input refers to {value}, which is {known}")
        return real_ids[value]
    return value


def _topological(items: list, dependencies: dict[str, tuple[str, ...] | list[str]]) -> list:
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
