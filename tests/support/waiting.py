"""Waiting on a condition a test depends on, never for a fixed time."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(found: Callable[[], bool], what: str, timeout: float = 10.0) -> float:
    """Wait until ``found()`` holds; the time it did (time.monotonic)."""
    deadline = time.monotonic() + timeout
    while not found():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(0.01)
    return time.monotonic()
