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

_HOSTNAME_PREFIX = "app-"


def pool_alias(app_name: str, role: str) -> str:
    """The network alias nginx resolves for a pool ("webapp-real")."""
    return f"{app_name}-{role}"


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
