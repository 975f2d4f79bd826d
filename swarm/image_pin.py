"""Every image the program declares is pinned to the digest its tag has in the registry now.

pulumi-docker's create asks the registry for a plain tag's digest and stores
``repo:tag@sha256:...`` in the service (the Docker client's QueryRegistry),
while its update sends the tag as written. A service declared with a plain tag
therefore differs from what Swarm runs one `pulumi up` after its create, and
that `up` restarts every task of it, the edge's included. Declared pinned, the
spec Swarm stores is the declared one: the second `up` has nothing to do, all
nodes run the same image, and a tag moved in the registry (a new push of
``v2``) shows in `pulumi preview` as a rollout.

The digest comes from pulumi-docker's own ``getRegistryImage``, which `pulumi
preview` runs too: a registry it cannot reach fails the preview, before
anything is touched. It asks the registry from where the CLI runs, over HTTPS,
with the provider's ``registryAuth``.
"""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from swarm_zero_downtime.swarm.image_ref import tagged


class ImageNotResolved(Exception):
    """The registry did not give a digest for an image's tag."""


def stored_form(image: str) -> str:
    """``image`` the way Docker stores it in a service spec: docker.io/library/ dropped, ``:latest`` added."""
    return tagged(image)


def has_digest(image: str) -> bool:
    return "@" in image


def pin(image: str, opts: pulumi.InvokeOptions | None = None) -> str:
    """``image`` in its stored form, pinned to the digest its tag has now; an image with a digest stays as it is."""
    image = stored_form(image)
    if has_digest(image):
        return image
    try:
        found = docker.get_registry_image(name=image, opts=opts)
    except Exception as error:
        raise ImageNotResolved(
            f"image {image}: cannot read its digest from the registry ({error})."
            " The program pins appImage:imageTag, nginxImage and edgeImage to their digests at preview:"
            " check that the registry is reachable from where `pulumi` runs, that the tag exists,"
            " and docker:registryAuth for a private registry; or give the image pinned (tag@sha256:<64 hex>)"
        ) from error
    return f"{image}@{found.sha256_digest}"
