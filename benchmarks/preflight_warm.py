"""Wall time of a warm sandbox preflight: the server is already up (``OPSCHECK_SANDBOX_DSN``, else one throwaway
cluster started once for all runs), so each run pays for its own database (a copy of the server's template),
the VALR simulator, the reference bot, every scenario and the result files.

    .venv/bin/python benchmarks/preflight_warm.py [--runs 5] [--html]

Each run is ``opscheck preflight`` in a fresh process, as an operator runs it. A first, unmeasured run builds the
template database; then ``--runs`` runs are timed. Prints each run and the median. Not a test: it does not assert.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ops_checks.sandbox import postgres  # noqa: E402


def one_run(env: dict[str, str], html: bool) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as reports:
        argv = [sys.executable, "-m", "ops_checks.cli", "preflight", "--reports", reports, "-q"]
        if not html:
            argv.append("--no-html")
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        failed = [f"{i['id']}: {i['reason']}" for v in Path(reports).glob("*/verdict.json")
                  for i in json.loads(v.read_text())["items"] if i["status"] != "passed"]
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else f"exit {proc.returncode}"
    return elapsed, "; ".join([last, *failed])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--html", action="store_true", help="include rendering the single-file HTML report")
    args = parser.parse_args()
    server = postgres.start_server()
    try:
        env = dict(os.environ, **{postgres.DSN_ENV: server.admin_dsn})
        first, verdict = one_run(env, args.html)
        print(f"first run (builds the template if the server has none): {first:.2f} s  ({verdict})")
        times = []
        for n in range(1, args.runs + 1):
            elapsed, verdict = one_run(env, args.html)
            print(f"run {n}: {elapsed:.2f} s  ({verdict})")
            times.append(elapsed)
    finally:
        server.stop()
    print(f"median of {len(times)}: {statistics.median(times):.2f} s  (min {min(times):.2f}, max {max(times):.2f})"
          f"  cores={os.cpu_count()}  load={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
