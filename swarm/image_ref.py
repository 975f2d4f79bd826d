"""The image reference normalisation the Docker Go client applies before it sends a service spec.

From moby v28.5.2 (the docker client pulumi-docker 5.x links: kreuzwerker
v4.5.0 go.mod ``github.com/docker/docker v28.5.2+incompatible``),
client/service_create.go:

- ``imageWithTagString``: ``reference.FamiliarString(reference.TagNameOnly(
  ParseNormalizedNamed(image)))``: "nginx" -> "nginx:latest",
  "docker.io/library/nginx:1.30" -> "nginx:1.30"; "" when it does not parse
  (the image is then sent as written). ServiceCreate and ServiceUpdate both
  apply it.
- ``imageWithDigestString``: the tagged reference with the registry's digest
  appended ("repo:tag@sha256:..."), unless it already has a digest.

The grammar is distribution/reference's (regexp.go, normalize.go), reduced to
what the checks need: a 64-hex identifier is refused, the default domain
docker.io and its "library/" namespace are implied and dropped again.
"""

from __future__ import annotations

import re

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"^(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$")
_IDENTIFIER = re.compile(r"^[a-f0-9]{64}$")

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"


class _Ref:
    def __init__(self, domain: str, path: str, tag: str | None, digest: str | None):
        self.domain, self.path, self.tag, self.digest = domain, path, tag, digest

    def familiar(self) -> str:
        # normalize.go familiarizeName: docker.io and library/ are implied.
        name = self.path
        if self.domain == DEFAULT_DOMAIN:
            if name.startswith(OFFICIAL_REPO_PREFIX) and "/" not in name[len(OFFICIAL_REPO_PREFIX) :]:
                name = name[len(OFFICIAL_REPO_PREFIX) :]
        else:
            name = f"{self.domain}/{name}"
        return name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def _parse_normalized_named(image: str) -> _Ref | None:
    """distribution/reference ParseNormalizedNamed; None where it returns an error."""
    if _IDENTIFIER.match(image):
        return None
    slash = image.find("/")
    head = image[:slash]
    if slash == -1 or (not any(c in head for c in ".:") and head != "localhost" and head.lower() == head):
        domain, remainder = DEFAULT_DOMAIN, image
    else:
        domain, remainder = head, image[slash + 1 :]
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder.split(":")[0].split("@")[0]:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    repo_part = re.split(r"[:@]", remainder, maxsplit=1)[0]
    if repo_part.lower() != repo_part:
        return None
    match = _REFERENCE.match(f"{domain}/{remainder}")
    if not match:
        return None
    name = match["name"]
    return _Ref(domain, name[len(domain) + 1 :], match["tag"], match["digest"])


def image_with_tag_string(image: str) -> str:
    """moby client imageWithTagString: the familiar reference with ":latest" added when it has no tag or digest."""
    ref = _parse_normalized_named(image)
    if ref is None:
        return ""
    if ref.tag is None and ref.digest is None:
        ref.tag = "latest"  # reference.TagNameOnly
    return ref.familiar()


def tagged(image: str) -> str:
    """What ServiceCreate/ServiceUpdate put in ContainerSpec.Image: the tagged string, or the image as written."""
    return image_with_tag_string(image) or image


def image_with_digest_string(image: str, digest: str) -> str:
    """moby client imageWithDigestString: ``image`` with ``@digest`` unless it already carries one."""
    ref = _parse_normalized_named(image)
    if ref is None or ref.digest is not None:
        return image
    ref.digest = digest
    return ref.familiar()
