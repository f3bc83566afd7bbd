"""Run a child (the pytest run of a preflight) so that no signal leaves it unsupervised.

The child runs in its own process group. SIGINT, SIGTERM and SIGHUP sent to us (Ctrl-C, ``timeout``, a closed
terminal) are forwarded to that whole group, so the child's own handlers run: the kill-switch flow leaves the
switch ACTIVE and says so, and the sandbox's Postgres server, bot and simulators are torn down. We then wait a
grace period for the child to finish its verdict before escalating to SIGKILL. No child outlives the run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_S = 30.0  # time for the child to reach a safe state and write its verdict after a signal


@dataclass
class Outcome:
    returncode: int | None
    signal: int | None = None  # the first signal we received, if any
    timed_out: bool = False
    log_error: str | None = None  # why the log could not be written whole (it is then incomplete)

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


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    on_line: Callable[[str], None] | None = None,
    log_path: Path | None = None,
    redact: Callable[[str], str] | None = None,
    pass_fds: Sequence[int] = (),
) -> Outcome:
    """Run ``argv``; with ``on_line``, its output (stdout and stderr) goes line by line to ``on_line`` and, whole,
    to ``log_path``, instead of to our terminal; each line passes ``redact`` first. ``pass_fds`` are handed to the
    child (and closed here once it started). A log that cannot be written (a full disk) does not stop the run:
    the output is still read to the end, and ``Outcome.log_error`` says why the log is incomplete."""
    piped = on_line is not None
    try:
        proc = subprocess.Popen(  # noqa: S603
            list(argv),
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
            pass_fds=tuple(pass_fds),
            stdout=subprocess.PIPE if piped else None,
            stderr=subprocess.STDOUT if piped else None,
            text=True if piped else None,
            bufsize=1 if piped else -1,
            errors="replace" if piped else None,
        )
    finally:
        for fd in pass_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
    log_error: list[str] = []
    reader = (
        threading.Thread(target=_pump, args=(proc, on_line, log_path, redact, log_error), daemon=True)
        if piped
        else None
    )
    if reader is not None:
        reader.start()
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
    if reader is not None:
        reader.join(10)
    first = next((s for s in received if s), None)
    return Outcome(proc.returncode, first, timed_out, log_error[0] if log_error else None)


def _pump(
    proc: subprocess.Popen[str],
    on_line: Callable[[str], None] | None,
    log_path: Path | None,
    redact: Callable[[str], str] | None,
    log_error: list[str],
) -> None:
    assert proc.stdout is not None
    log = None
    try:
        log = log_path.open("w", encoding="utf-8") if log_path is not None else None
    except OSError as exc:
        log_error.append(f"{log_path}: {exc.strerror or exc}")
    try:
        for line in proc.stdout:
            if redact is not None:
                line = redact(line)
            if log is not None:
                try:
                    log.write(line)
                except OSError as exc:  # a full disk: keep reading, or the child blocks on a full pipe
                    log_error.append(f"{log_path}: {exc.strerror or exc}")
                    _close(log, [], log_path)
                    log = None
            if on_line is not None:
                with contextlib.suppress(Exception):
                    on_line(line.rstrip("\n"))
    finally:
        if log is not None:
            _close(log, log_error, log_path)


def _close(log: TextIO, errors: list[str], path: Path | None) -> None:
    """Close the log; a write that fails only now (the last buffered lines) is recorded in ``errors``."""
    try:
        log.close()
    except OSError as exc:
        errors.append(f"{path}: {exc.strerror or exc}")
        with contextlib.suppress(OSError):
            log.close()
