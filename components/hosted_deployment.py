"""The top component as the component provider hosts it for programs in other languages (provider/).

Pulumi's provider host (``pulumi.provider.experimental``) builds the package's
schema from the hosted class's annotations, read as written: its one input is
the namespace of this project's keys in the caller's stack config, which the
engine hands the provider with every Construct. So a TypeScript program sets
the same keys, checked by the same rules, as a Python one
(``load_settings_under``), secrets included. The class keeps the top
component's name, type and children: a construct registers what this
project's program registers.
"""

import inspect
from typing import TypedDict

import pulumi

from swarm_zero_downtime.components import deployment
from swarm_zero_downtime.settings import load_settings_under


class ZeroDowntimeDeploymentInputs(TypedDict):
    config_namespace: pulumi.Input[str]
    """Where this package's keys are in your stack config: `shop` for `pulumi config set shop:imageTag v3`."""


class ZeroDowntimeDeployment(deployment.ZeroDowntimeDeployment):
    """Zero-downtime deployments of a containerised web app on Docker Swarm behind nginx: the app's
    real and backup pools, the L7 tier and the edge, configured by this package's keys under
    `configNamespace` in your stack config."""

    # The schema's outputs: the top component's, evaluated (the host reads annotations as
    # written, and deployment.py's are strings).
    __annotations__ = inspect.get_annotations(deployment.ZeroDowntimeDeployment, eval_str=True)

    def __init__(
        self, name: str, args: ZeroDowntimeDeploymentInputs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        namespace = args["config_namespace"]
        if not isinstance(namespace, str) or not namespace:
            # The keys are read before any resource is declared, so the namespace cannot wait on one.
            raise pulumi.InputPropertyError(
                "configNamespace", "must be a plain, non-empty string (not another resource's output or a secret)"
            )
        settings = load_settings_under(namespace)
        super().__init__(name, deployment.ZeroDowntimeDeploymentArgs.from_settings(settings), opts)
