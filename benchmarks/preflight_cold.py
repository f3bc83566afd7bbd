"""Wall time of a cold sandbox preflight, provisioning included (a new Postgres cluster every run).

    .venv/bin/python benchmarks/preflight_cold.py [--runs 3] [--html]

Each run is the operator's command, ``opscheck preflight``, in a fresh process: initdb + server start, schema,
VALR simulator, reference bot, every scenario, verdict.json, JUnit, Allure results (and the HTML report with
--html). Prints each run and the median. Not a test: it measures; it does not assert.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--html", action="store_true", help="include rendering the single-file HTML report")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "OPSCHECK_SANDBOX_DSN"}  # cold: provision every time
    times = []
    for n in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as reports:
            argv = [sys.executable, "-m", "ops_checks.cli", "preflight", "--reports", reports]
            if not args.html:
                argv.append("--no-html")
            start = time.perf_counter()
            proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
        verdict = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else f"exit {proc.returncode}"
        print(f"run {n}: {elapsed:.2f} s  ({verdict})")
        times.append(elapsed)
    print(
        f"median of {len(times)}: {statistics.median(times):.2f} s  (min {min(times):.2f}, max {max(times):.2f})"
        f"  cores={os.cpu_count()}"
    )


if __name__ == "__main__":
    main()
