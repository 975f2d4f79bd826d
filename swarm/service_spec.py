"""Pieces of a Swarm service spec that the app pools and nginx share."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_docker as docker

from swarm_zero_downtime.swarm.values import Duration, HealthCheck, ResourceAmounts, RolloutPolicy, TaskResources

# What the Docker client records in a service when pulumi-docker creates it
# (QueryRegistry: the image's platforms from the registry) but that no update
# sends again. In kreuzwerker's schema placement is Optional+Computed while its
# platforms are Optional only: once a service declares a placement
# (spreadOver), every update would drop the recorded platforms, and the first
# `pulumi up` after a create would restart every task for that alone. Ignored,
# the provider drops that diff and keeps the recorded platforms in what it
# sends (pulumi-terraform-bridge: Provider.Diff passes ignoreChanges to the
# Terraform diff, which removes the attributes under the path).
RECORDED_AT_CREATE = ["taskSpec.placement.platforms"]


def service_options(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """``opts`` for a docker.Service of this program: what Docker records at create is not a change."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=list(RECORDED_AT_CREATE)))


# pulumi-docker waits this long before its first look at a new service; its
# wait after an update has fixed timing (7 s, then polls every 5 s or more).
CONVERGE_POLL = "2s"


def http_probe(port: int, path: str) -> str:
    """A shell command that succeeds when http://127.0.0.1:PORT/PATH answers 2xx."""
    url = f"http://127.0.0.1:{port}{path}"
    # Images ship curl or busybox wget, rarely both; either one will do.
    return f"curl -fsS -o /dev/null {url} || wget -q -O /dev/null {url}"


def http_healthcheck(port: int, health: HealthCheck) -> docker.ServiceTaskSpecContainerSpecHealthcheckArgs:
    return shell_healthcheck(http_probe(port, health.path), health)


def shell_healthcheck(command: str, health: HealthCheck) -> docker.ServiceTaskSpecContainerSpecHealthcheckArgs:
    """Docker's health check running ``command`` in the task's shell, with ``health``'s timings."""
    return docker.ServiceTaskSpecContainerSpecHealthcheckArgs(
        tests=["CMD-SHELL", command],
        interval=health.interval.text,
        timeout=health.timeout.text,
        retries=health.retries,
        start_period=health.start_period.text,
    )


def _rollout_fields(policy: RolloutPolicy) -> dict[str, Any]:
    return {
        "parallelism": policy.parallelism,
        "delay": policy.delay.text,
        "order": policy.order,
        "monitor": policy.monitor.text,
        "failure_action": policy.failure_action,
        "max_failure_ratio": "0",
    }


def update_config(policy: RolloutPolicy) -> docker.ServiceUpdateConfigArgs:
    return docker.ServiceUpdateConfigArgs(**_rollout_fields(policy))


def rollback_config(policy: RolloutPolicy) -> docker.ServiceRollbackConfigArgs:
    return docker.ServiceRollbackConfigArgs(**_rollout_fields(policy))


def converge_config(timeout: Duration) -> docker.ServiceConvergeConfigArgs:
    # Makes `pulumi up` wait for the rollout and fail when Swarm rolls it back.
    return docker.ServiceConvergeConfigArgs(delay=CONVERGE_POLL, timeout=timeout.text)


def placement(spread_over: str) -> docker.ServiceTaskSpecPlacementArgs | None:
    """Spread tasks over the values of a node label; None leaves Swarm's own spread.

    Swarm already places a service's tasks on the nodes with the fewest of
    them; a preference spreads over labels only (swarmkit scheduler/nodeset.go
    reads node.labels.* and engine.labels.*, and silently ignores node.id).
    """
    if not spread_over:
        return None
    return docker.ServiceTaskSpecPlacementArgs(prefs=[f"node.labels.{spread_over}"])


def task_resources(resources: TaskResources) -> docker.ServiceTaskSpecResourcesArgs:
    """The tasks' limits and reservations; an empty block when none is set, never None.

    kreuzwerker's ``resources`` is Optional+Computed while ``limits`` and
    ``reservation`` inside it are Optional only (resource_docker_service.go):
    left out, the block keeps whatever was last read back, so limits once set
    would stay after the key is emptied. Declared empty, the limits go, and a
    service that never had any reads back the same empty block (the provider
    always sends ``Resources: {}``, createResources), so no diff.
    """
    return docker.ServiceTaskSpecResourcesArgs(
        limits=_amounts(resources.limits, docker.ServiceTaskSpecResourcesLimitsArgs),
        reservation=_amounts(resources.reservations, docker.ServiceTaskSpecResourcesReservationArgs),
    )


def _amounts(amounts: ResourceAmounts, kind: Any) -> Any:
    # An unset part is sent as 0, Docker's "none" (createResources reads it as the int's zero value).
    return kind(nano_cpus=amounts.nano_cpus, memory_bytes=amounts.memory_bytes) if amounts else None
