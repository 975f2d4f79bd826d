"""The component provider: hosts the top component for programs in any language (docs/other-languages.md).

The Pulumi CLI starts it with the engine's address; it serves the schema, built
from the hosted component's annotations, and Construct over gRPC.
"""

import sys
import tomllib
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parent.parent
# The package is this checkout's, as for this project's own program: nothing to install.
sys.path.insert(0, str(CHECKOUT))

from pulumi.provider.experimental import component_provider_host  # noqa: E402

from swarm_zero_downtime.components.hosted_deployment import ZeroDowntimeDeployment  # noqa: E402
from swarm_zero_downtime.settings.project_file import project_name  # noqa: E402

if __name__ == "__main__":
    version = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())["project"]["version"]
    component_provider_host([ZeroDowntimeDeployment], name=project_name(), version=version)
