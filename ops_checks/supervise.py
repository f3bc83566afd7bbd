"""Run a child (the pytest run of a preflight) so that no signal leaves it unsupervised.

The child runs in its own process group. SIGINT, SIGTERM and SIGHUP sent to us (Ctrl-C, ``timeout``, a closed
terminal) are forwarded to that whole group, so the child's own handlers run: the kill-switch flow leaves the
switch ACTIVE and says so, and the sandbox's Postgres server, bot and simulators are torn down. We then wait a
grace period for the child to finish its verdict before escalating to SIGKILL. No child outlives the run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_S = 30.0  # time for the child to reach a safe state and write its verdict after a signal


@dataclass
class Outcome:
    returncode: int | None
    signal: int | None = None  # the first signal we received, if any
    timed_out: bool = False

    @property
    def interrupted(self) -> bool:
        return self.signal is not None

    def signal_name(self) -> str:
        return signal.Signals(self.signal).name if self.signal else ""


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout_s: float) -> Outcome:
    proc = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), start_new_session=True)  # noqa: S603
    received: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        _killpg(proc.pid, signum)

    previous = {s: signal.signal(s, forward) for s in FORWARDED}
    deadline = time.monotonic() + timeout_s
    timed_out = False
    try:
        while True:
            try:
                proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                pass
            if received and time.monotonic() > deadline:
                break
            if not received and time.monotonic() > deadline:
                timed_out = True
                _killpg(proc.pid, signal.SIGTERM)
                received.append(0)
                deadline = time.monotonic() + GRACE_S
            elif received and deadline > time.monotonic() + GRACE_S:
                deadline = time.monotonic() + GRACE_S
        if proc.poll() is None:
            _killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _killpg(proc.pid, signal.SIGKILL)  # anything left in the child's group (it has exited, or is killed)
    first = next((s for s in received if s), None)
    return Outcome(proc.returncode, first, timed_out)
