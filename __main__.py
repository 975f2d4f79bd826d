"""Zero-downtime deployment of a web app on Docker Swarm behind nginx: this project's stacks,
using the package as any program of your own would (docs/package.md)."""

import pulumi

from swarm_zero_downtime import ZeroDowntimeDeployment, ZeroDowntimeDeploymentArgs, load_settings

s = load_settings()
deployment = ZeroDowntimeDeployment(s.app.name, ZeroDowntimeDeploymentArgs.from_settings(s))
for name, value in deployment.outputs.items():
    pulumi.export(name, value)
