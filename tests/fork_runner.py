"""A warm preflight process per test worker that forks one child per fault case.

Each fault case is the preflight's own pytest run (``preflight_runner.preflight_in_process``: the argv the CLI gives
its pytest subprocess, the same plugin, verdict code and verdict.json) in a child forked from a process that has
already imported everything and run one healthy section once. A case so skips the Python start, the imports and
the parsing of the feature files (about 2.5 s of CPU in a fresh ``opscheck preflight``), yet shares nothing with
the case before it: the child's memory is a copy of the warm parent's, and the child exits when its run ends (its
sandbox goes with it; its database is a fresh copy of the server's template). That is the isolation a
subprocess per case gave.

The server reads one JSON request per line on stdin and answers one JSON line on stdout; the child's own output
goes to ``<reports>/fork-<pid>.log``. Run as ``python -m tests.fork_runner``; the test side is ``ForkRunner``.
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ops_checks.verdict import verdict
from tests.preflight_runner import REPO, Run, latest_run

CASE_TIMEOUT_S = 180.0  # catches a hang; a case takes a few seconds
READY_TIMEOUT_S = 180.0
WARM_SELECT = "section_1_5"  # a small healthy section: loads the plugin, the steps and every feature file once


def _serve() -> None:
    from tests.preflight_runner import preflight_in_process

    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything printed by the warm-up or a child goes to stderr, never into the protocol
    warm = Path(sys.argv[1])
    run = preflight_in_process(warm, faults=[], select=WARM_SELECT)
    import anyio._backends._asyncio  # noqa: F401 - what the bots' first threadpool call imports (in every child)

    if not run.verdict:
        protocol.write(json.dumps({"error": f"warm-up run gave no verdict: {run.output}"}) + "\n")
        return
    gc.freeze()  # the warm parent's heap is every child's: their GC passes skip it (and no copy-on-write of it)
    protocol.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        req = json.loads(line)
        reports = Path(req["reports"])
        reports.mkdir(parents=True, exist_ok=True)
        pid = os.fork()
        if pid == 0:  # the child: one preflight, then exit without running the parent's clean-up
            gc.disable()  # a child lives for one short run and ends with os._exit: collecting cycles is wasted work
            code = 70
            try:
                log = os.open(reports / f"fork-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(log, 1)
                os.dup2(log, 2)
                child = preflight_in_process(
                    reports, faults=req["faults"], select=req["select"], cadence=req.get("cadence")
                )
                code = child.exit_code
            except BaseException as exc:  # noqa: BLE001 - reported through the exit code and the log
                print(f"fork runner child failed: {exc!r}", file=sys.stderr, flush=True)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        deadline = time.monotonic() + CASE_TIMEOUT_S
        status = None
        while status is None:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(raw)
            elif time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                status = -9
            else:
                time.sleep(0.02)
        protocol.write(json.dumps({"exit": status, "pid": pid}) + "\n")


class ForkRunner:
    """The test side: starts the warm server once, then ``run(reports, faults=…, select=…)`` per case."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self._log = (workdir / "fork-server.log").open("w")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fork_runner", str(workdir / "warm")],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        answer = self._answer(READY_TIMEOUT_S)
        if not answer.get("ready"):
            self.close()
            raise RuntimeError(f"fork runner did not start: {answer}")

    def _answer(self, timeout_s: float) -> dict[str, Any]:
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], timeout_s)
        line = self._proc.stdout.readline() if ready else ""
        if not line:
            return {"error": f"no answer within {timeout_s:g} s (server exit {self._proc.poll()})"}
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, reports: Path, *, faults: list[str], select: str | None, cadence: str | None = None) -> Run:
        assert self._proc.stdin is not None
        request = {"reports": str(reports), "faults": faults, "select": select, "cadence": cadence}
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        answer = self._answer(CASE_TIMEOUT_S + 10)
        logs = sorted(reports.glob("fork-*.log"))
        output = logs[-1].read_text(errors="replace")[-4000:] if logs else ""
        return latest_run(reports, int(answer.get("exit", verdict.EXIT_CANNOT_RUN)), f"{answer}\n{output}")

    def close(self) -> None:
        if self._proc.poll() is None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()


if __name__ == "__main__":
    _serve()
