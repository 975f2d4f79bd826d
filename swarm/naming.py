"""The names the program gives things in the swarm, and what can be read back from them.

The pools' roles name their network aliases, service labels and task hostnames
(``app-real-1``); the probe, the tests and the benchmark tell the pools apart
by those hostnames, so the pattern they use is derived here too.
"""

from __future__ import annotations

REAL = "real"
BACKUP = "backup"
POOL_ROLES = (REAL, BACKUP)

# Service label that says which pool a service is.
POOL_LABEL = "swarm-zero-downtime.pool"
# Service label that marks the L7 tier, for what checks a stack from outside the
# program (the policy pack in policy/, which needs it to be at least 2 tasks).
TIER_LABEL = "swarm-zero-downtime.tier"
L7_TIER = "l7"
# On every gated service: the fingerprint of the spec it was declared with (components/base.py spec_label).
SPEC_LABEL = "swarm-zero-downtime.spec-sha256"
# On a release job: the app it releases, so a job an interrupted run left behind is found and removed.
RELEASE_LABEL = "swarm-zero-downtime.release"

_HOSTNAME_PREFIX = "app-"

# Pulumi appends "-" and 7 random characters to a logical name (pulumi-docker's
# auto-naming, SetAutonaming(255, "-")); the physical name is what Swarm checks.
AUTONAME_SUFFIX = 8
# swarmkit: a service name is a DNS label (validateAnnotations), a config name
# at most 64 characters (validateConfigOrSecretAnnotations).
SERVICE_NAME_MAX = 63
CONFIG_NAME_MAX = 64
CONFIG_HASH_CHARS = 12


def pool_name(app_name: str, role: str) -> str:
    """Logical name of a pool's component and service ("webapp-real")."""
    return f"{app_name}-{role}"


def l7_tier_name(app_name: str) -> str:
    """Logical name of the L7 tier, and its network alias: the edge resolves tasks.<this>.

    "-nginx", the name stacks were first deployed with: it is in URNs, Swarm
    service names and the edge's config, so a new one would replace the tier."""
    return f"{app_name}-nginx"


def edge_name(app_name: str) -> str:
    """Logical name of the edge: the nginx that owns the published ports."""
    return f"{app_name}-edge"


def release_name(app_name: str) -> str:
    """Logical name of the release step (components/release.py)."""
    return f"{app_name}-release"


def release_job_name(app_name: str, run: str) -> str:
    """Swarm name of one run's job; ``run``: 6 hex digits, as long as the backup pool's auto-name suffix."""
    return f"{release_name(app_name)}-{run}"


def network_name(app_name: str) -> str:
    """Logical name of the app network: the L7 tier and both pools."""
    return f"{app_name}-net"


def edge_network_name(app_name: str) -> str:
    """Logical name of the edge network: the edge and the L7 tier."""
    return f"{app_name}-edge-net"


_CONFIG_INFIX = "-conf-"


def nginx_config_name(nginx: str, content_sha256: str) -> str:
    """Logical name of one content of an nginx config: a new content is a new config."""
    return f"{nginx}{_CONFIG_INFIX}{content_sha256[:CONFIG_HASH_CHARS]}"


def config_owner(config_name: str) -> str:
    """The service a config's logical name belongs to ("webapp-edge")."""
    return config_name.rsplit(_CONFIG_INFIX, 1)[0]


def tls_secret_name(nginx: str, certificate_sha256: str) -> str:
    """Logical name of one certificate and its key: a rotated certificate is a new secret.

    Named by the certificate's fingerprint, which is public; never by the key.
    """
    return f"{nginx}-tls-{certificate_sha256[:CONFIG_HASH_CHARS]}"


def app_secret_name(app_name: str, secret: str) -> str:
    """Logical name of one entry of appSecrets: the same whatever its value.

    Never named by the value or a hash of it: a short password could be found
    again from a hash in a Swarm name, a URN or a preview. A new value replaces
    the Swarm secret under a new auto-name (see components/app_secrets.py).
    """
    return f"{app_name}-secret-{secret}"


# The longest appName whose derived physical names Swarm still accepts.
APP_NAME_MAX = min(
    CONFIG_NAME_MAX - len(nginx_config_name(l7_tier_name(""), "0" * CONFIG_HASH_CHARS)) - AUTONAME_SUFFIX,
    SERVICE_NAME_MAX - max(len(pool_name("", role)) for role in (REAL, BACKUP)) - AUTONAME_SUFFIX,
    SERVICE_NAME_MAX - max(len(l7_tier_name("")), len(edge_name(""))) - AUTONAME_SUFFIX,
    SERVICE_NAME_MAX - len(release_job_name("", "0" * 6)),
)


def pool_alias(app_name: str, role: str) -> str:
    """The network alias nginx resolves for a pool ("webapp-real"); stable across replacements."""
    return pool_name(app_name, role)


def task_hostname(role: str) -> str:
    """A pool's task hostname, as a Swarm template: app-real-{{.Task.Slot}}."""
    return f"{_HOSTNAME_PREFIX}{role}-{{{{.Task.Slot}}}}"


def task_name_pattern(role: str) -> str:
    """A regex for the hostname of any task of one pool: app-real-<slot>."""
    return rf"{_HOSTNAME_PREFIX}{role}-\d+"


# Group 1 is the pool's role: matches "app-real-" in "app-real-1, current time ...".
POOL_PATTERN = rf"{_HOSTNAME_PREFIX}({'|'.join(POOL_ROLES)})-"
# Group 1 is the whole hostname of one task: "app-backup-2".
TASK_PATTERN = rf"({_HOSTNAME_PREFIX}(?:{'|'.join(POOL_ROLES)})-\d+)"


def role_of_hostname(hostname: str) -> str | None:
    """ "real" for app-real-1; None for a name no pool gives its tasks."""
    for role in POOL_ROLES:
        if hostname.startswith(f"{_HOSTNAME_PREFIX}{role}-"):
            return role
    return None
