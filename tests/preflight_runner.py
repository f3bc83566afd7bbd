"""Runs ``opscheck preflight`` as an operator would (a subprocess) and returns its verdict.json."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    exit_code: int
    verdict: dict[str, Any] | None
    output: str
    run_dir: Path | None

    def status_of(self, prefix: str = "") -> dict[str, str]:
        assert self.verdict is not None, self.output[-2000:]
        return {i["id"]: i["status"] for i in self.verdict["items"] if i["id"].startswith(prefix)}

    def failed(self, prefix: str = "") -> set[str]:
        return {k for k, v in self.status_of(prefix).items() if v == "failed"}


def latest_run(reports: Path, exit_code: int, output: str) -> Run:
    """The newest run under ``reports`` that wrote a verdict.json (none: the run could not start)."""
    runs = sorted(p for p in reports.iterdir() if (p / "verdict.json").exists()) if reports.exists() else []
    run_dir = runs[-1] if runs else None
    data = json.loads((run_dir / "verdict.json").read_text()) if run_dir else None
    return Run(exit_code, data, output, run_dir)


def preflight(reports: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180) -> Run:
    argv = [sys.executable, "-m", "ops_checks.cli", "preflight", "--reports", str(reports), *args]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    return latest_run(reports, proc.returncode, proc.stdout + proc.stderr)


def preflight_in_process(
    reports: Path,
    *,
    faults: list[str],
    select: str | None,
    cadence: str | None = None,
    runbook: Path | None = None,
) -> Run:
    """The sandbox preflight's pytest run in this process, with the argv ``opscheck preflight`` gives its pytest
    subprocess (``cli/app.py::pytest_argv``: the same plugin, options, result files and verdict.json); only the process
    start, the imports and the CLI's own printing are left out, which the end-to-end cases cover.

    Every feature file stays bound (``steps/test_runbook.py`` is imported once per process, so a per-run
    ``OPSCHECK_FEATURES`` could not narrow it); the marker expression ``select`` does the scoping. Each run
    starts its own sandbox (a database copied from the server's template, a fresh reference bot and simulators),
    so a fault never outlives its run. The caller sets ``OPSCHECK_SANDBOX_DSN``.
    """
    import os
    import signal

    import pytest

    from ops_checks.catalogue import runbook_text
    from ops_checks.cli.app import new_run_id, pytest_argv
    from ops_checks.verdict import verdict

    run_dir = (reports / new_run_id()).resolve()
    run_dir.mkdir(parents=True)
    argv = pytest_argv(
        run_dir,
        target="sandbox",
        env_file=None,
        allow_mutations=False,
        operator=None,
        witness=None,
        faults=faults,
        select=select,
        cadence=cadence,
    )
    assert argv[1:3] == ["-m", "pytest"], argv[:3]
    argv = [*argv[3:], "--runbook", str(runbook_text.resolve_dir(runbook))]
    saved_handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    features = os.environ.pop("OPSCHECK_FEATURES", None)
    try:
        code = int(pytest.main(argv))
    finally:
        for sig, handler in saved_handlers.items():
            signal.signal(sig, handler)
        if features is not None:
            os.environ["OPSCHECK_FEATURES"] = features
    path = run_dir / "verdict.json"
    data = json.loads(path.read_text()) if path.exists() else None
    # the exit code the CLI derives from that verdict (2: no verdict, the run could not start)
    exit_code = verdict.EXIT_CODES.get(data["verdict"], verdict.EXIT_NO_GO) if data else verdict.EXIT_CANNOT_RUN
    return Run(exit_code, data, f"in-process pytest exit {code}; run dir {run_dir}", run_dir if data else None)
