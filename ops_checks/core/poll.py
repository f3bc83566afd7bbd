"""Waiting for something to become true: poll a condition at a fixed interval until it holds or time runs out."""

from __future__ import annotations

import time
from collections.abc import Callable


def until(cond: Callable[[], bool], timeout_s: float, interval_s: float) -> float | None:
    """Seconds until ``cond()`` held, or None when it did not within ``timeout_s`` (checked every ``interval_s``;
    never checked again once the time is up)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if cond():
            return time.monotonic() - start
        time.sleep(interval_s)
    return None
