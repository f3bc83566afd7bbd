"""Wall time of a sandbox preflight as an operator runs it (``opscheck preflight`` in a fresh process, no
``OPSCHECK_SANDBOX_DSN``): each run starts its own throwaway Postgres cluster, its database, the VALR simulator,
the reference bot, every scenario and the result files.

    .venv/bin/python benchmarks/preflight_warm.py [--runs 5] [--html] [--shared-server]

The first run uses an empty cache directory (``OPSCHECK_CACHE_DIR``): the first preflight on a fresh machine, which
initialises the cluster and builds the template database, then keeps a copy. The ``--runs`` timed runs after it
copy that cluster. ``--shared-server`` instead gives every run one server started here (the test suite's way), so a
run pays only for its database. Prints each run and the median. Not a test: it does not assert.
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
        failed = [
            f"{i['id']}: {i['reason']}"
            for v in Path(reports).glob("*/verdict.json")
            for i in json.loads(v.read_text())["items"]
            if i["status"] != "passed"
        ]
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else f"exit {proc.returncode}"
    return elapsed, "; ".join([last, *failed])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--html", action="store_true", help="include rendering the single-file HTML report")
    parser.add_argument("--shared-server", action="store_true", help="one server for every run (as the tests do)")
    args = parser.parse_args()
    cache = tempfile.TemporaryDirectory(prefix="opscheck-bench-cache-")
    env = {k: v for k, v in os.environ.items() if k != postgres.DSN_ENV}
    env[postgres.CACHE_ENV] = cache.name
    server = postgres.start_server() if args.shared_server else None
    try:
        if server is not None:
            env[postgres.DSN_ENV] = server.admin_dsn
        first, verdict = one_run(env, args.html)
        what = "builds the server's template" if server else "fresh machine: initdb, template, cache kept"
        print(f"first run ({what}): {first:.2f} s  ({verdict})")
        times = []
        for n in range(1, args.runs + 1):
            elapsed, verdict = one_run(env, args.html)
            print(f"run {n}: {elapsed:.2f} s  ({verdict})")
            times.append(elapsed)
    finally:
        if server is not None:
            server.stop()
        cache.cleanup()
    print(
        f"median of {len(times)}: {statistics.median(times):.2f} s  (min {min(times):.2f}, max {max(times):.2f})"
        f"  cores={os.cpu_count()}  load={os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
