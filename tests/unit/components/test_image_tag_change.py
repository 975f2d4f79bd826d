"""Changing only imageTag must change only the app services' image.

`pulumi preview` diffs inputs; if anything else moved (the nginx config, a
name, the network), the preview would show more than an in-place image update.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from offline_runner.mock_program import mock_digest, run_stack
from offline_runner.resource_types import SERVICE

# Where a service's inputs hold its spec label (swarm.naming.SPEC_LABEL): a pool's comes after its
# pool label, the L7 tier and the edge carry only it.
POOL_SPEC_LABEL = "labels[1].value"
SPEC_LABEL_PATH = "labels[0].value"


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def changed_inputs(before, after) -> dict[str, list[str]]:
    old = {r.urn: dict(leaves(r.inputs)) for r in before.resources}
    new = {r.urn: dict(leaves(r.inputs)) for r in after.resources}
    assert old.keys() == new.keys(), "the set of resources changed"
    return {
        urn.split("::")[-1]: sorted(k for k in old[urn].keys() | new[urn].keys() if old[urn].get(k) != new[urn].get(k))
        for urn in old
        if old[urn] != new[urn]
    }


def test_only_the_app_images_change():
    before = run_stack("dev", overrides={"imageTag": "v1"})
    after = run_stack("dev", overrides={"imageTag": "v2"})
    image = "taskSpec.containerSpec.image"
    # The real pool's rollout gate waits for the new image: its inputs name it. The image is
    # part of each pool's declared spec, so the spec label (the pool label's next) moves too.
    assert changed_inputs(before, after) == {
        "webapp-real": [POOL_SPEC_LABEL, image],
        "webapp-backup": [POOL_SPEC_LABEL, image],
        "webapp-real-rollout": ["image", "spec_sha256"],
    }
    for program, tag in ((before, "v1"), (after, "v2")):
        for role in ("real", "backup"):
            service = program.get(SERVICE, f"webapp-{role}")
            image = f"windowforsun/test-web:{tag}"
            assert service.inputs["taskSpec"]["containerSpec"]["image"] == f"{image}@{mock_digest(image)}"


def test_same_config_declares_identical_inputs():
    # Guards the diff above against a program that is not deterministic.
    assert changed_inputs(run_stack("prod"), run_stack("prod")) == {}
