"""Wall time of the preflight's evidence pass (``cli/evidence.py: seal``): the result files checked whole, history
carried into the results, the one ``allure generate --single-file``, the analytics strip and offline check, the
history kept, the file modes, the manifest (every file fsync'd), verdict.json and the sign-off page.

    .venv/bin/python benchmarks/report_render.py [--runs 5] [--run-dir DIR]

Renders the Allure results of ``--run-dir`` (a preflight's run directory), else of one sandbox preflight run
first with ``--no-html`` (``OPSCHECK_SANDBOX_DSN``, else a throwaway cluster). Each round renders into a fresh
copy of the run directory, with the history the previous round kept. Prints each round, the median and the
offline check's own share. Not a test: it does not assert.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ops_checks.cli import evidence  # noqa: E402
from ops_checks.report import html as report  # noqa: E402
from ops_checks.sandbox import postgres  # noqa: E402


def a_run_dir(reports: Path) -> Path:
    server = postgres.start_server()
    try:
        env = dict(os.environ, **{postgres.DSN_ENV: server.admin_dsn})
        argv = [sys.executable, "-m", "ops_checks.cli", "preflight", "--reports", str(reports), "-q", "--no-html"]
        subprocess.run(argv, cwd=REPO, env=env, check=False, capture_output=True)
    finally:
        server.stop()
    return next(reports.glob("*/verdict.json")).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--run-dir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        source = args.run_dir.resolve() if args.run_dir else a_run_dir(Path(scratch) / "source")
        result = json.loads((source / "verdict.json").read_text())
        reports = Path(scratch) / "reports"
        times, offline = [], []
        for n in range(1, args.runs + 1):
            run_dir = reports / f"run{n}"
            shutil.copytree(source, run_dir, ignore=shutil.ignore_patterns("html"))
            start = time.perf_counter()
            page = evidence.seal(run_dir, dict(result), target="sandbox", html=True, log_problem=None).page
            assert page is not None
            elapsed = time.perf_counter() - start
            t = time.perf_counter()
            refs = report.assert_offline(page.parent / "allure.html")
            offline.append(time.perf_counter() - t)
            trend = json.loads((reports / ".history-sandbox" / "history-trend.json").read_text())
            print(f"round {n}: {elapsed:.2f} s  (trend points {len(trend)}, external references {len(refs)})")
            times.append(elapsed)
    print(
        f"median of {len(times)}: {statistics.median(times):.2f} s  (min {min(times):.2f}, max {max(times):.2f}); "
        f"offline check alone {statistics.median(offline) * 1000:.0f} ms  cores={os.cpu_count()}  "
        f"load={os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
