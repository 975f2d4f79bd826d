"""The provider's diff: new inputs against the prior state's OUTPUTS, with the Terraform schema's rules.

What it models (pulumi-terraform-bridge v3.133.0 pkg/tfbridge/provider.go
``Provider.Diff``: the prior state is ``req.GetOlds()``, i.e. the resource's
outputs, and the change and replacement decision comes from Terraform's diff
of that state against the new config; terraform-plugin-sdk v2
helper/schema/schema.go ``schemaMap.diff``, ``diffString``, ``diffList``,
``diffSet``, ``diffMap`` and ``Schema.finalizeDiff``):

- An unset Optional attribute counts as its type's zero value ("", 0, false,
  empty): a prior ``false``/``""`` is no change (``diffString`` decodes a nil
  new value as ``schema.Type.Zero()``).
- An unset attribute with a ``Default`` takes the default.
- An unset Optional+Computed attribute or block keeps the prior value: no diff.
- ``DiffSuppressFunc`` (here only ``suppressEquivalentFloatRatio`` on
  ``max_failure_ratio``) makes equivalent values no change.
- ForceNew (``finalizeDiff``: RequiresNew when Old != New):
  - a primitive attribute: any change replaces;
  - a list or MaxItems=1 block: only the change of its number of items
    (``diffList``'s count schema carries the block's ForceNew); the fields
    inside are diffed with their own ForceNew. So ``mode.replicated.replicas``
    updates in place and only adding or removing the ``mode`` block replaces;
  - a set (``diffSet``): elements are matched by hash, so a changed element is
    one removed and one added element; every ForceNew field of those elements
    goes from "" to a value (or back), so any change inside a set whose element
    has a ForceNew field (``networks_advanced``: name, id, aliases,
    driver_opts) replaces. A set of strings passes its ForceNew on to its
    elements.

A secret sealed in the applier's state (``state.open_secrets`` could not match
it with the new value) is a change of its attribute, replacing when ForceNew:
the engine would have decrypted it and the provider found the values
different. So a new ``data`` of a ``docker_secret`` replaces it.

The planned state is the prior state with the changes applied: what the
provider's update sends (``createServiceSpec`` reads it through
``ResourceData``) and what a failed update leaves as the outputs
(``ResourceData.State()`` in terraform-plugin-sdk helper/schema/
resource_data.go: prior state merged with the diff).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from engine_standin.swarm_applier.schema import Field
from engine_standin.swarm_applier.translate import is_secret

_ZERO: dict[str, Any] = {"string": "", "int": 0, "bool": False, "list": [], "set": [], "map": {}}


@dataclass(frozen=True)
class Change:
    path: str  # Pulumi property path, e.g. taskSpec.containerSpec.image or ...configs[0].configId
    replace: bool


@dataclass
class Plan:
    planned: dict[str, Any]
    changes: list[Change] = field(default_factory=list)

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.path for c in self.changes))

    @property
    def replaces(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.path for c in self.changes if c.replace))


def plan(fields: tuple[Field, ...], prior: dict[str, Any] | None, config: dict[str, Any]) -> Plan:
    """The provider's view of ``config`` against ``prior`` outputs (None: a create)."""
    changes: list[Change] = []
    planned = _object(fields, prior, config, "", changes)
    return Plan(planned, changes)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _object(
    fields: tuple[Field, ...], prior: dict[str, Any] | None, config: dict[str, Any] | None, path: str, out: list[Change]
) -> dict[str, Any]:
    planned: dict[str, Any] = {}
    for f in fields:
        p = (prior or {}).get(f.name)
        c = (config or {}).get(f.name)
        value = _field(f, p, c, _join(path, f.name), out)
        if value is not None:
            planned[f.name] = value
    return planned


def _field(f: Field, p: Any, c: Any, path: str, out: list[Change]) -> Any:
    if c is None and f.default is not None:
        c = f.default
    if c is None and f.computed:
        return p  # Optional+Computed and not set: whatever the provider last read back
    if is_secret(p):
        # Sealed in the state and not the new value: changed (planned as on a create).
        inner: list[Change] = []
        planned = _field(f, None, c, path, inner)
        out.append(Change(path, f.force_new or any(x.replace for x in inner)))
        return planned
    if f.kind in _ZERO:
        return _primitive(f, p, c, path, out)
    if f.kind == "block":
        return _block(f, p, c, path, out)
    if f.kind == "block_list":
        return _block_list(f, p, c, path, out)
    if f.kind == "block_set":
        return _block_set(f, p, c, path, out)
    raise ValueError(f"unknown field kind {f.kind}")


def normalize(f: Field, value: Any) -> Any:
    """A primitive or a collection of strings, with unset as the type's zero value."""
    if value is None:
        return _ZERO[f.kind]
    if f.kind == "int":
        return int(value)
    if f.kind == "set":
        return sorted(value)
    if f.kind == "list":
        return list(value)
    if f.kind == "map":
        return dict(value)
    return value


def _primitive(f: Field, p: Any, c: Any, path: str, out: list[Change]) -> Any:
    old, new = normalize(f, p), normalize(f, c)
    if old == new:
        return p if p is not None else _planned_primitive(f, c)
    if f.suppress is not None and p is not None and c is not None and f.suppress(p, c):
        return p
    out.append(Change(path, f.force_new))
    return _planned_primitive(f, c)


def _planned_primitive(f: Field, c: Any) -> Any:
    if c is None:
        return None
    return normalize(f, c)


def _block(f: Field, p: Any, c: Any, path: str, out: list[Change]) -> Any:
    # A block is there (count 1) even with every field empty: the bridge gives a
    # MaxItems=1 block of one element as an object, {} included, and none as null.
    if c is None:
        if p is not None:
            out.append(Change(path, f.force_new))  # the block's count goes 1 -> 0
        return None
    if p is None:
        inner: list[Change] = []
        planned = _object(f.fields, None, c, path, inner)
        out.append(Change(path, f.force_new or any(x.replace for x in inner)))  # count 0 -> 1
        return planned
    return _object(f.fields, p, c, path, out)


def _block_list(f: Field, p: Any, c: Any, path: str, out: list[Change]) -> Any:
    old, new = list(p or []), list(c or [])
    if len(old) != len(new):
        inner: list[Change] = []
        planned = [_object(f.fields, None, item, f"{path}[{i}]", inner) for i, item in enumerate(new)]
        out.append(Change(path, f.force_new or any(x.replace for x in inner)))
        return planned or None
    planned = [_object(f.fields, o, n, f"{path}[{i}]", out) for i, (o, n) in enumerate(zip(old, new, strict=True))]
    return planned or None


def canonical(fields: tuple[Field, ...], item: dict[str, Any], from_config: bool) -> dict[str, Any]:
    """A set element as its hash sees it: every field, unset as default (config) or zero."""
    out: dict[str, Any] = {}
    for f in fields:
        value = item.get(f.name)
        if value is None and from_config and f.default is not None:
            value = f.default
        if f.kind == "block_set":
            out[f.name] = sorted(
                (canonical(f.fields, x, from_config) for x in value or []), key=lambda x: json.dumps(x, sort_keys=True)
            )
        elif f.kind in ("block", "block_list"):
            raise ValueError(f"{f.tf}: blocks inside set elements are not modelled")
        else:
            out[f.name] = normalize(f, value)
    return out


def _key(item: dict[str, Any]) -> str:
    return json.dumps(item, sort_keys=True)


def _has_force_new_value(fields: tuple[Field, ...], item: dict[str, Any]) -> bool:
    return any(f.force_new and item.get(f.name) not in (None, "", 0, False, [], {}) for f in fields)


def _block_set(f: Field, p: Any, c: Any, path: str, out: list[Change]) -> Any:
    old = [canonical(f.fields, x, from_config=False) for x in p or []]
    new = [canonical(f.fields, x, from_config=True) for x in c or []]
    old_keys = [_key(x) for x in old]
    new_keys = [_key(x) for x in new]
    if sorted(old_keys) == sorted(new_keys):
        return p if p else (new or None)
    removed = [x for x, k in zip(old, old_keys, strict=True) if k not in new_keys]
    added = [(i, x) for i, (x, k) in enumerate(zip(new, new_keys, strict=True)) if k not in old_keys]
    replace = f.force_new and len(old) != len(new)
    replace = replace or any(_has_force_new_value(f.fields, x) for x in removed)
    replace = replace or any(_has_force_new_value(f.fields, x) for _, x in added)
    reported = False
    for (index, new_item), old_item in zip(added, removed, strict=False):
        for sub in f.fields:
            if new_item.get(sub.name) != old_item.get(sub.name):
                out.append(Change(f"{path}[{index}].{sub.name}", replace))
                reported = True
    for index, _ in added[len(removed) :]:
        out.append(Change(f"{path}[{index}]", replace))
        reported = True
    if not reported:
        out.append(Change(path, replace))  # only removals
    return new or None


def ignore_changes(diff: Plan, prior: dict[str, Any], paths: tuple[str, ...]) -> Plan:
    """``diff`` with the resource's ignoreChanges applied as the bridge applies them.

    pulumi-terraform-bridge ``Provider.Diff``/``Update`` turn each path into
    Terraform keys against the prior state (diff.go ``computeIgnoreChanges``)
    and remove every attribute diff at or under them from the InstanceDiff
    (tfshim sdk-v2 instance_diff.go ``processIgnoreChanges``) before the plan is
    built; the plan then keeps the prior values there (terraform-plugin-sdk
    terraform/diff.go ``applyBlockDiff`` copies a block with no diff left).
    Only paths of object keys are modelled; an index in a path is refused.
    """
    if not paths:
        return diff
    for path in paths:
        if "[" in path:
            raise ValueError(f"ignoreChanges path {path!r}: paths with an index are not modelled")
    kept = [c for c in diff.changes if not any(_under(c.path, p) for p in paths)]
    planned = json.loads(json.dumps(diff.planned))
    for path in paths:
        _keep_prior(planned, prior, path.split("."))
    return Plan(planned, kept)


def _under(path: str, ignored: str) -> bool:
    return path == ignored or path.startswith((f"{ignored}.", f"{ignored}["))


def _keep_prior(planned: Any, prior: Any, keys: list[str]) -> None:
    """Put ``prior``'s value at ``keys`` into ``planned`` (nothing when either side has no such object)."""
    if not isinstance(planned, dict) or not isinstance(prior, dict):
        return
    key, rest = keys[0], keys[1:]
    if rest:
        _keep_prior(planned.get(key), prior.get(key), rest)
    elif key in prior:
        planned[key] = prior[key]
    else:
        planned.pop(key, None)
