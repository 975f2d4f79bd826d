"""Turns one request's outcome into a failure kind and the pool that answered."""

from __future__ import annotations

import re
from collections.abc import Iterator

import requests

CONNECTION_REFUSED = "connection refused"
CONNECTION_RESET = "connection reset"
# Apart, because they say different things: no connection within the timeout
# (the address or port is not answering), or no answer on one (a proxy or app
# that went silent mid-request).
CONNECT_TIMEOUT = "connect timeout"
READ_TIMEOUT = "read timeout"
TIMEOUTS = (CONNECT_TIMEOUT, READ_TIMEOUT)
OTHER_CONNECTION_ERROR = "other connection error"
CONNECTION_KINDS = (CONNECTION_REFUSED, CONNECTION_RESET, *TIMEOUTS, OTHER_CONNECTION_ERROR)
UNKNOWN_POOL = "unknown"


def failure_kind(exc: requests.RequestException) -> str:
    """Kind of a request that got no HTTP response."""
    if isinstance(exc, requests.ConnectTimeout):
        return CONNECT_TIMEOUT
    if isinstance(exc, requests.Timeout):
        return READ_TIMEOUT
    causes = list(_causes(exc))
    # Checked in this order because urllib3's NewConnectionError (which wraps a
    # refused connect) subclasses its ConnectTimeoutError.
    for kind, types in (
        (CONNECTION_REFUSED, (ConnectionRefusedError,)),
        # http.client.RemoteDisconnected (closed without a response) is a ConnectionResetError.
        (CONNECTION_RESET, (ConnectionResetError, BrokenPipeError)),
        # A read timeout while the body streams in surfaces as ConnectionError, not Timeout.
        (READ_TIMEOUT, (TimeoutError,)),
    ):
        if any(isinstance(cause, types) for cause in causes):
            return kind
    return OTHER_CONNECTION_ERROR


def http_failure(status: int) -> str | None:
    """Kind of a response that is a failure (any 4xx or 5xx), None when it is a success."""
    return f"HTTP {status}" if status >= 400 else None


def pool_of(response: requests.Response, pattern: re.Pattern[str], header: str | None) -> str:
    """Pool named by capture group 1 of pattern (the whole match if it has no group)."""
    # Decoding as UTF-8 directly: requests' .text guesses the charset, too slow under load.
    text = response.headers.get(header, "") if header else response.content.decode("utf-8", "replace")
    match = pattern.search(text)
    if match is None:
        return UNKNOWN_POOL
    return (match.group(1) if pattern.groups else match.group(0)) or UNKNOWN_POOL


def failure_order(kind: str) -> tuple[int, int, str]:
    """Sort key: connection kinds in a fixed order, then HTTP codes ascending."""
    if kind in CONNECTION_KINDS:
        return (0, CONNECTION_KINDS.index(kind), "")
    code = kind.removeprefix("HTTP ")
    return (1, int(code), "") if code.isdigit() else (2, 0, kind)


def pool_order(pool: str) -> tuple[bool, str]:
    """Sort key: pools by name, `unknown` last."""
    return (pool == UNKNOWN_POOL, pool)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """exc and everything it wraps, through causes, contexts, urllib3's .reason and args."""
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = (current.__cause__, current.__context__, getattr(current, "reason", None), *current.args)
        stack.extend(item for item in linked if isinstance(item, BaseException))
