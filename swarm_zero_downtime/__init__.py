"""Zero-downtime deployments of a containerised web app on Docker Swarm behind nginx.

The package other Pulumi programs install (docs/package.md); this repository's
own program (__main__.py) uses it the same way. Its parts keep their folders at
the repository's top level (components/, nginx/, settings/, swarm/, linked from
here), and are imported only through this package's name, which no program's
own ``components`` or ``settings`` can shadow.
"""

from swarm_zero_downtime.components.deployment import ZeroDowntimeDeployment, ZeroDowntimeDeploymentArgs
from swarm_zero_downtime.settings import (
    AppSettings,
    NginxSettings,
    PoolSettings,
    ReleaseSettings,
    ResourceSettings,
    SettingsError,
    StackSettings,
    TlsSettings,
    load_settings,
    load_settings_under,
    project_defaults,
)
from swarm_zero_downtime.swarm.values import HealthCheck, RolloutPolicy

__all__ = [
    "AppSettings",
    "HealthCheck",
    "NginxSettings",
    "PoolSettings",
    "ReleaseSettings",
    "ResourceSettings",
    "RolloutPolicy",
    "SettingsError",
    "StackSettings",
    "TlsSettings",
    "ZeroDowntimeDeployment",
    "ZeroDowntimeDeploymentArgs",
    "load_settings",
    "load_settings_under",
    "project_defaults",
]
