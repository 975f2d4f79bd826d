"""Another team's program: the component with only its own app set, everything else defaulted."""

from dataclasses import replace

import pulumi

from swarm_zero_downtime.components.deployment import ZeroDowntimeDeployment, ZeroDowntimeDeploymentArgs
from swarm_zero_downtime.settings import project_defaults

app = replace(project_defaults().app, name="shop", repository="ghcr.io/acme/shop", tag="v3", port=3000)
shop = ZeroDowntimeDeployment("shop", ZeroDowntimeDeploymentArgs(app=app))
pulumi.export("url", shop.url)
