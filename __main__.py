"""Zero-downtime deployment of a web app on Docker Swarm behind nginx."""

import pulumi

from components.deployment import ZeroDowntimeDeployment, ZeroDowntimeDeploymentArgs
from settings import load_settings

s = load_settings()
deployment = ZeroDowntimeDeployment(
    s.app.name,
    ZeroDowntimeDeploymentArgs(
        app_name=s.app.name,
        image=s.app.image,
        app_port=s.app.port,
        public_host=s.app.public_host,
        real_replicas=s.pools.real_replicas,
        backup_replicas=s.pools.backup_replicas if s.pools.backup_enabled else None,
        health=s.health,
        update=s.update,
        rollback=s.rollback,
        stop_grace_period=s.pools.stop_grace_period,
        endpoint_mode=s.pools.endpoint_mode,
        spread_over=s.pools.spread_over,
        converge_timeout=s.pools.converge_timeout,
        nginx_image=s.nginx.image,
        nginx_replicas=s.nginx.replicas,
        edge_image=s.nginx.edge_image,
        overlay_subnet=s.nginx.overlay_subnet,
        published_port=s.nginx.published_port,
        publish_mode=s.nginx.publish_mode,
        upstream=s.nginx.upstream,
        https_port=s.tls.https_port,
        certificate=s.tls.certificate,
    ),
)
for name, value in deployment.outputs.items():
    pulumi.export(name, value)
