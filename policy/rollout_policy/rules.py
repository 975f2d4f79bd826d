"""The policies: one rollout-safety rule each, over every pulumi-docker Service of a stack.

Mandatory rules are ones every valid configuration of this program meets
(settings/ rejects the rest, or the components fix the value); advisory rules
flag a choice the program's config lets a stack make on purpose, so a
preview warns and goes on. An organisation can raise an advisory rule to
mandatory per stack with policy config (docs/policy-pack.md).
"""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from rollout_policy.durations import describe, parse_duration
from rollout_policy.service import (
    BACKUP_POOL,
    L7_TIER,
    POOL_LABEL,
    SERVICE,
    TIER_LABEL,
    HealthTimings,
    auto_named,
    health_check,
    health_disabled,
    label,
    publishes_in_host_mode,
    replicas,
    update_config,
)

# Swarm's default monitor window (swarmkit api/defaults: UpdateConfig.Monitor).
SWARM_DEFAULT_MONITOR = parse_duration("5s")
MIN_L7_TASKS = 2

Check = Callable[[ResourceValidationArgs, ReportViolation], None]


def services_only(check: Check) -> Check:
    """``check`` applied to Services; every other resource passes."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type == SERVICE:
            check(args, report_violation)

    return validate


@services_only
def _health_check(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    check = health_check(args.props)
    if check is None:
        report_violation(
            f"service {args.name!r} declares no health check: Swarm counts a task ready as soon as its"
            " process starts, so a rollout moves on (and a load balancer sends traffic) before it serves;"
            " set taskSpec.containerSpec.healthcheck.tests to a command that passes only once the task serves",
            None,
        )
    elif health_disabled(check):
        report_violation(
            f"service {args.name!r} disables its health check (healthcheck.tests is NONE): Swarm counts a task"
            " ready as soon as its process starts; set healthcheck.tests to a command that passes only once the"
            " task serves",
            None,
        )


@services_only
def _start_first(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if publishes_in_host_mode(args.props):
        return
    order = update_config(args.props).get("order") or "stop-first"
    if order != "start-first":
        report_violation(
            f"service {args.name!r} updates {order} (updateConfig.order): each step stops a task before its"
            " replacement is healthy, one task fewer serving for the whole rollout; set updateConfig.order"
            " to 'start-first' (this program: updateOrder). Only a service that publishes a port in host"
            " mode may stop first, since its old task holds the port",
            None,
        )


@services_only
def _monitor_window(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    check = health_check(args.props)
    if check is None or health_disabled(check):
        return  # no health window to cover: the health-check rule reports the service
    timings = HealthTimings.of(check)
    # The backup pool gets an image only after the real pool ran it through a
    # full window (swarm/rollout_plan.py followup_policy): watching it only
    # needs to catch a task that stops passing its checks.
    follow_up = label(args.props, POOL_LABEL) == BACKUP_POOL
    needed = timings.time_to_turn_unhealthy if follow_up else timings.time_to_unhealthy
    formula = "(interval + timeout) x retries" if follow_up else "startPeriod + (interval + timeout) x retries"
    monitor_text = update_config(args.props).get("monitor")
    monitor = parse_duration(str(monitor_text)) if monitor_text else SWARM_DEFAULT_MONITOR
    if monitor < needed:
        report_violation(
            f"service {args.name!r} has updateConfig.monitor {describe(monitor)}, shorter than its health"
            f" window {describe(needed)} (healthcheck {formula}): Swarm would call a rollout done before a"
            f" bad task is known to be unhealthy, and never roll it back; set updateConfig.monitor to at"
            f" least {describe(needed)} (this program: updateMonitor)",
            None,
        )


@services_only
def _failure_action(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    action = update_config(args.props).get("failureAction") or "pause"
    if action != "rollback":
        report_violation(
            f"service {args.name!r} has updateConfig.failureAction {action!r}: a rollout whose new tasks fail"
            " stays half done on the bad spec; set updateConfig.failureAction to 'rollback'"
            " (this program: updateFailureAction)",
            None,
        )


@services_only
def _no_fixed_name(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not auto_named(args.props, args.name):
        report_violation(
            f"service {args.name!r} has the fixed name {args.props.get('name')!r}: Swarm service names are"
            " unique, so a replacement cannot be created before the old service is deleted, and every"
            " service stops at once; remove the name input and let Pulumi auto-name the service",
            None,
        )


@services_only
def _l7_tier_tasks(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if label(args.props, TIER_LABEL) != L7_TIER:
        return
    tasks = replicas(args.props)
    if tasks is None:
        report_violation(
            f"service {args.name!r} is the L7 tier ({TIER_LABEL}={L7_TIER}) and runs in global mode: one task"
            f" on a single-node swarm; make it replicated with mode.replicated.replicas of at least"
            f" {MIN_L7_TASKS}",
            None,
        )
    elif tasks < MIN_L7_TASKS:
        report_violation(
            f"service {args.name!r} is the L7 tier ({TIER_LABEL}={L7_TIER}) and runs {tasks} task(s): while"
            " it restarts, drains or dies nothing serves; set mode.replicated.replicas to at least"
            f" {MIN_L7_TASKS} (this program: nginxReplicas)",
            None,
        )


HEALTH_CHECK = ResourceValidationPolicy(
    name="service-health-check",
    description=(
        "Every Swarm service declares a health check, not disabled with NONE: start-first, the monitor"
        " window and rollback all act on health. Mandatory: the program declares one on every service."
    ),
    validate=_health_check,
    enforcement_level=EnforcementLevel.MANDATORY,
)

START_FIRST = ResourceValidationPolicy(
    name="service-update-start-first",
    description=(
        "Services update start-first (a new task healthy before an old one stops), except one that publishes"
        " a port in host mode, whose old task holds the port. Advisory: the program lets a stack choose"
        " updateOrder stop-first."
    ),
    validate=_start_first,
    enforcement_level=EnforcementLevel.ADVISORY,
)

MONITOR_WINDOW = ResourceValidationPolicy(
    name="service-update-monitor-covers-health-window",
    description=(
        "updateConfig.monitor is at least the health window, startPeriod + (interval + timeout) x retries"
        " (swarm/values.py HealthCheck.time_to_unhealthy); for the backup pool, which follows the real pool's"
        " full window, (interval + timeout) x retries. Mandatory: settings/rollout.py rejects a shorter"
        " updateMonitor."
    ),
    validate=_monitor_window,
    enforcement_level=EnforcementLevel.MANDATORY,
)

FAILURE_ACTION = ResourceValidationPolicy(
    name="service-update-failure-action-rollback",
    description=(
        "A failed update rolls back (updateConfig.failureAction rollback). Advisory: the program lets a stack"
        " choose updateFailureAction pause or continue."
    ),
    validate=_failure_action,
    enforcement_level=EnforcementLevel.ADVISORY,
)

NO_FIXED_NAME = ResourceValidationPolicy(
    name="service-no-fixed-name",
    description=(
        "No service has a name set by hand: Pulumi's auto-naming lets a replacement start before the old"
        " service is deleted. Mandatory: the program sets no service name."
    ),
    validate=_no_fixed_name,
    enforcement_level=EnforcementLevel.MANDATORY,
)

L7_TIER_TASKS = ResourceValidationPolicy(
    name="l7-tier-at-least-two-tasks",
    description=(
        f"The L7 tier (the service labelled {TIER_LABEL}={L7_TIER}) runs at least {MIN_L7_TASKS} replicated"
        " tasks, so one can drain or die while another serves. Mandatory: settings/ rejects nginxReplicas"
        f" under {MIN_L7_TASKS}."
    ),
    validate=_l7_tier_tasks,
    enforcement_level=EnforcementLevel.MANDATORY,
)

POLICIES: list[Policy] = [HEALTH_CHECK, START_FIRST, MONITOR_WINDOW, FAILURE_ACTION, NO_FIXED_NAME, L7_TIER_TASKS]
