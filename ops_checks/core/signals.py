"""Clean-up that a signal cannot cut short: Ctrl-C, SIGTERM or SIGHUP arriving while a sandbox is being torn down
takes effect when the tear-down has finished, so a half-done clean-up never leaves a database or a bot behind."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

DEFERRED = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


@contextmanager
def deferred() -> Iterator[None]:
    """Block SIGINT, SIGTERM and SIGHUP for the block (main thread only: elsewhere, signals are not delivered to
    Python code anyway); one that arrived meanwhile is delivered, and raises, when the block ends. Every step of a
    clean-up is bounded by its own timeouts, and ``opscheck``'s supervisor still escalates after its grace period."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, DEFERRED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
