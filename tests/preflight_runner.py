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


def preflight(reports: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 180) -> Run:
    argv = [sys.executable, "-m", "ops_checks.cli", "preflight", "--reports", str(reports), *args]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    runs = sorted(p for p in reports.iterdir() if (p / "verdict.json").exists()) if reports.exists() else []
    run_dir = runs[-1] if runs else None
    data = json.loads((run_dir / "verdict.json").read_text()) if run_dir else None
    return Run(proc.returncode, data, proc.stdout + proc.stderr, run_dir)
