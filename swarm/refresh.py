"""What a deploy reads back from Swarm before `pulumi up`, and what it must not.

pulumi-docker's read of a network, a config or a secret treats any failed
inspect as "gone" (kreuzwerker v4.5 ``resourceDockerNetworkRead``,
``resourceDockerConfigRead``, ``resourceDockerSecretRead``: ``d.SetId("")``),
so a single failed GET during a refresh drops the object from the state. For
the network that plans a new one and, ``networks_advanced`` being ForceNew, a
replacement of every service. Docker refuses to remove a network, a config or
a secret while a service uses it, so reading them back finds nothing a deploy
needs; a service is read with a list call whose failure fails the run instead.

So the deploy refreshes everything but these three (``pulumi refresh
--exclude``: ``**`` matches anything, ``*`` anything but ``:``; pulumi
pkg/resource/deploy/deployment.go ``UrnTargets``), then runs ``pulumi up``
without a refresh of its own.
"""

from __future__ import annotations

NOT_REFRESHED = (
    "docker:index/network:Network",
    "docker:index/serviceConfig:ServiceConfig",
    "docker:index/secret:Secret",
)


def refresh_excludes() -> list[str]:
    """The URN patterns of ``pulumi refresh --exclude`` for every resource of a type in NOT_REFRESHED."""
    return [f"**{type_}::*" for type_ in NOT_REFRESHED]


if __name__ == "__main__":
    print("\n".join(refresh_excludes()))
