"""A tiny Pulumi dynamic provider for the applier's tests, importable from the project root.

Its behaviour is driven by its inputs, so a test can make it fail: ``fail``
set to "create" or "update" raises there; ``gone`` makes read report the
resource missing; ``replace_on`` lists properties whose change replaces.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, DiffResult, ReadResult, ResourceProvider, UpdateResult


class WithDiff(ResourceProvider):
    serialize_as_secret_always = False

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in set(olds) | set(news) if olds.get(k) != news.get(k)]
        replaces = [k for k in changed if k in (news.get("replace_on") or [])]
        return DiffResult(changes=bool(changed), replaces=replaces or None)

    def create(self, props: dict[str, Any]) -> CreateResult:
        if props.get("fail") == "create":
            raise RuntimeError("create failed on purpose")
        return CreateResult(id_=f"thing-{props['value']}", outs={**props, "created_from": props["value"]})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        if news.get("fail") == "update":
            raise RuntimeError("update failed on purpose")
        return UpdateResult(outs={**news, "updated_to": news["value"]})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if props.get("gone"):
            return ReadResult(None, {})
        return ReadResult(id_, props)


class WithoutDiff(ResourceProvider):
    """No diff(): the host answers DIFF_UNKNOWN and the engine compares inputs."""

    serialize_as_secret_always = False

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_="plain", outs={"value": props["value"], "extra": "computed"})

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs={"value": news["value"], "extra": "recomputed"})


class SeesSecrets(ResourceProvider):
    """Tells in its outputs what it was given for ``password``: its type, and whether it is the plain text."""

    serialize_as_secret_always = False

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=olds.get("value") != news.get("value"))

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_="seen", outs=self._seen(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._seen(news))

    @staticmethod
    def _seen(props: dict[str, Any]) -> dict[str, Any]:
        password = props["password"]
        return {"value": props["value"], "password": password, "password_type": type(password).__name__}
