"""Zero-downtime deployment of a web app on Docker Swarm behind nginx."""

import pulumi

from components.deployment import ZeroDowntimeDeployment, ZeroDowntimeDeploymentArgs
from components.settings import load_settings

settings = load_settings()
deployment = ZeroDowntimeDeployment(settings.app_name, ZeroDowntimeDeploymentArgs(settings))

pulumi.export("url", deployment.url)
pulumi.export("network_name", deployment.network_name)
pulumi.export("real_service_name", deployment.real.service_name)
pulumi.export("backup_service_name", deployment.backup.service_name if deployment.backup else None)
pulumi.export("nginx_service_name", deployment.load_balancer.service_name)
pulumi.export("nginx_config_sha256", deployment.load_balancer.config_sha256)
pulumi.export("rollout_plan", {pool.rollout_plan.pool: pool.rollout_plan.to_dict() for pool in deployment.pools})
