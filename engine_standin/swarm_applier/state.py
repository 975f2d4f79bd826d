"""The applier's stack state: a JSON file per stack, as Pulumi's checkpoint keeps it per URN.

Location: ``<repo>/.cache/applier-state/<stack>.json`` (``.cache/`` is
git-ignored). Per URN: type, physical id, the inputs last applied (ids of
other resources resolved), the outputs the provider returned, dependencies
and parent, and the provider's init errors after a partial failure. Written
after every step, like the engine's snapshot manager (pkg/backend/
snapshot.go), so an interrupted apply leaves what it did recorded.

Secrets: the engine encrypts every secret value in its checkpoint (pulumi
pkg/resource/stack/deployment.go ``SerializePropertyValue`` with the stack's
secrets manager) and decrypts it for the provider's next diff. The applier
has no secrets manager, so it keeps a secret ``sealed``: a salted PBKDF2
digest under the secret signature (``{SIG_KEY: SECRET_SIG, "salt", "pbkdf2"}``),
never the value. What is a secret (``seal_inputs``, ``seal_outputs``):

- an input the program marked secret (``Output.secret``; pulumi-docker's SDK
  marks ``Secret.data`` itself);
- an output of a Sensitive attribute (pulumi-terraform-bridge pkg/tfbridge/
  schema.go ``MakeTerraformOutput``: ``tfs.Sensitive()`` -> ``MakeSecret``);
- an output whose input of the same name held a secret (pulumi pkg/resource/
  plugin/provider_plugin.go ``annotateSecrets``: objects recurse, anything
  else, arrays included, becomes a secret as a whole).

The diff needs only "same or changed" of a secret: ``open_secrets`` puts the
new plain value back wherever it matches the sealed one; a sealed value left
in the prior state is a change (``plan``).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine_standin.swarm_applier.schema import Field
from engine_standin.swarm_applier.translate import SECRET_SIG, SIG_KEY, is_secret, reveal
from offline_runner.stack_config import REPO_ROOT

STATE_DIR = REPO_ROOT / ".cache" / "applier-state"
FORMAT_VERSION = 1


@dataclass
class ResourceState:
    urn: str
    type: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: list[str] = field(default_factory=list)
    parent: str = ""
    init_errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The logical name (the URN's last part)."""
        return self.urn.rsplit("::", 1)[-1]


class StackState:
    """The resources of one stack, in the order they were created (kept on update).

    ``pending_deletes``: resources replaced creating first, each kept beside its
    replacement (same URN) until it is deleted, as the engine's snapshot keeps
    them with ``delete: true`` (pulumi pkg/resource/deploy/step.go ``CreateStep.Apply``).
    """

    def __init__(
        self,
        path: Path,
        resources: dict[str, ResourceState] | None = None,
        pending_deletes: list[ResourceState] | None = None,
    ):
        self.path = path
        self.resources: dict[str, ResourceState] = resources or {}
        self.pending_deletes: list[ResourceState] = pending_deletes or []

    @classmethod
    def load(cls, stack: str, state_dir: Path = STATE_DIR) -> StackState:
        path = state_dir / f"{stack}.json"
        if not path.exists():
            return cls(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path}: state format {data.get('version')!r}, expected {FORMAT_VERSION}")
        return cls(
            path,
            {r["urn"]: ResourceState(**r) for r in data["resources"]},
            [ResourceState(**r) for r in data.get("pending_deletes", [])],
        )

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": FORMAT_VERSION,
            "resources": [asdict(r) for r in self.resources.values()],
            "pending_deletes": [asdict(r) for r in self.pending_deletes],
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
            out.write("\n")
        os.replace(tmp, self.path)

    def put(self, resource: ResourceState) -> None:
        self.resources[resource.urn] = resource
        self.save()

    def put_replacement(self, created: ResourceState, replaced: ResourceState) -> None:
        """``created`` in place of ``replaced``, which waits among the pending deletes: one write."""
        self.pending_deletes.append(replaced)
        self.resources[created.urn] = created
        self.save()

    def replace(self, old: ResourceState, new: ResourceState) -> None:
        """``new`` where ``old`` is: among the resources, or among the pending deletes."""
        if old in self.pending_deletes:
            self.pending_deletes[self.pending_deletes.index(old)] = new
            self.save()
        else:
            self.put(new)

    def forget(self, resource: ResourceState) -> None:
        """``resource`` gone: out of the pending deletes when it is one, else out of the resources."""
        if resource in self.pending_deletes:
            self.pending_deletes.remove(resource)
        else:
            self.resources.pop(resource.urn, None)
        self.save()

    def get(self, urn: str) -> ResourceState | None:
        return self.resources.get(urn)

    def find(self, type_: str, logical_name: str) -> ResourceState | None:
        return next((r for r in self.resources.values() if r.type == type_ and r.name == logical_name), None)


# -- secrets ---------------------------------------------------------------------------

_PBKDF2_ITERATIONS = 100_000


def _canonical(value: Any) -> Any:
    """JSON-stable: the wire format's whole floats (2.0) as the ints the read-back has (2)."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _digest(salt: str, value: Any) -> str:
    text = json.dumps(_canonical(value), sort_keys=True).encode()
    return hashlib.pbkdf2_hmac("sha256", text, bytes.fromhex(salt), _PBKDF2_ITERATIONS).hex()


def is_sealed(value: Any) -> bool:
    return is_secret(value) and "pbkdf2" in value


def sealed_matches(sealed: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` is the plain value ``sealed`` was made from."""
    return secrets.compare_digest(_digest(sealed["salt"], value), sealed["pbkdf2"])


def _seal(value: Any, previous: Any) -> Any:
    """Every secret in ``value`` sealed; a secret equal to the one sealed at the same place before keeps that seal."""
    if is_secret(value):
        if is_sealed(value):
            return value
        plain = reveal(value)
        if is_sealed(previous) and sealed_matches(previous, plain):
            return previous
        salt = secrets.token_hex(16)
        return {SIG_KEY: SECRET_SIG, "salt": salt, "pbkdf2": _digest(salt, plain)}
    if isinstance(value, dict):
        prior = previous if isinstance(previous, dict) and not is_secret(previous) else {}
        return {k: _seal(v, prior.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        prior_items = previous if isinstance(previous, list) else []
        return [_seal(v, prior_items[i] if i < len(prior_items) else None) for i, v in enumerate(value)]
    return value


def _secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def _contains_secrets(value: Any) -> bool:
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(_contains_secrets(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secrets(v) for v in value)
    return False


def _is_object(value: Any) -> bool:
    return isinstance(value, dict) and not is_secret(value)


def annotate_secrets(outs: dict[str, Any], ins: dict[str, Any]) -> dict[str, Any]:
    """provider_plugin.go annotateSecrets(outs, ins)."""
    result = dict(outs)
    for key, in_value in ins.items():
        if key not in result:
            continue
        out_value = result[key]
        if _is_object(out_value) and _is_object(in_value):
            result[key] = annotate_secrets(out_value, in_value)
        elif not is_secret(out_value) and _contains_secrets(in_value):
            result[key] = _secret(out_value)
    return result


def _mark_sensitive(fields: tuple[Field, ...], value: dict[str, Any]) -> dict[str, Any]:
    result = dict(value)
    for f in fields:
        v = result.get(f.name)
        if v is None or is_secret(v):
            continue
        if f.sensitive:
            result[f.name] = _secret(v)
        elif f.kind == "block" and isinstance(v, dict):
            result[f.name] = _mark_sensitive(f.fields, v)
        elif f.kind in ("block_list", "block_set") and isinstance(v, list):
            result[f.name] = [_mark_sensitive(f.fields, x) if isinstance(x, dict) else x for x in v]
    return result


def seal_inputs(inputs: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The inputs as the state keeps them: every value the program marked secret sealed."""
    sealed: dict[str, Any] = _seal(inputs, previous)
    return sealed


def seal_outputs(
    fields: tuple[Field, ...],
    outputs: dict[str, Any],
    secret_sources: tuple[dict[str, Any], ...],
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The outputs as the state keeps them: Sensitive attributes and what ``secret_sources`` mark secret, sealed.

    ``secret_sources``: the inputs the provider got (Create, Update), or the prior outputs (Read).
    """
    marked = _mark_sensitive(fields, outputs)
    for source in secret_sources:
        marked = annotate_secrets(marked, source)
    sealed: dict[str, Any] = _seal(marked, previous)
    return sealed


# Where the engine would send a provider the plain value of a secret that has changed since: the applier
# keeps only its seal, and anything unequal to the new value tells the provider the same.
CHANGED_SECRET = "(a secret value that has changed since)"


def plain_prior(prior: Any, config: Any) -> Any:
    """``prior`` as a provider that takes no secrets gets it: ``open_secrets``, and every seal left a placeholder."""
    opened = open_secrets(prior, config)
    if is_sealed(opened):
        return CHANGED_SECRET
    if isinstance(opened, dict):
        news = config if isinstance(config, dict) else {}
        return {k: plain_prior(v, news.get(k)) for k, v in opened.items()}
    if isinstance(opened, list):
        items = config if isinstance(config, list) else []
        return [plain_prior(v, items[i] if i < len(items) else None) for i, v in enumerate(opened)]
    return opened


def open_secrets(prior: Any, config: Any) -> Any:
    """``prior`` with each sealed value that ``config`` holds unchanged at the same place replaced by that plain value."""
    if is_sealed(prior):
        return config if config is not None and sealed_matches(prior, config) else prior
    if isinstance(prior, dict):
        news = config if isinstance(config, dict) else {}
        return {k: open_secrets(v, news.get(k)) for k, v in prior.items()}
    if isinstance(prior, list):
        items = config if isinstance(config, list) else []
        return [open_secrets(v, items[i] if i < len(items) else None) for i, v in enumerate(prior)]
    return prior
