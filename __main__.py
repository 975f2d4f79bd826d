"""Zero-downtime deployment of a web app on Docker Swarm behind nginx."""

import pulumi

from swarm_zero_downtime.components.deployment import ZeroDowntimeDeployment, ZeroDowntimeDeploymentArgs
from swarm_zero_downtime.settings import load_settings

s = load_settings()
deployment = ZeroDowntimeDeployment(
    s.app.name,
    ZeroDowntimeDeploymentArgs(
        app=s.app,
        pools=s.pools,
        health=s.health,
        update=s.update,
        rollback=s.rollback,
        nginx=s.nginx,
        tls=s.tls,
        resources=s.resources,
        release=s.release,
    ),
)
for name, value in deployment.outputs.items():
    pulumi.export(name, value)
