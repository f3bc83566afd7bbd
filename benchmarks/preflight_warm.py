"""Wall time of a sandbox preflight as an operator runs it (``opscheck preflight`` in a fresh process, no
``OPSCHECK_SANDBOX_DSN``): each run starts its own throwaway Postgres cluster, its database, the VALR simulator,
the reference bot, every scenario and the result files.

    .venv/bin/python benchmarks/preflight_warm.py [--runs 5] [--html] [--shared-server] [--enforce]

The first run uses an empty cache directory (``OPSCHECK_CACHE_DIR``): the first preflight on a fresh machine, which
initialises the cluster and builds the template database, then keeps a copy. The ``--runs`` timed runs after it
copy that cluster (warm). ``--shared-server`` instead gives every run one server started here (the test suite's
way), so a run pays only for its database. Prints each run with the CPU time of all its processes (the CLI, its
pytest child, Postgres: on a shared machine the wall time moves with the load, the CPU time much less), then the
median against the target (issue 23: ≤ 5 s warm), e.g. ``preflight warm: 4.82 s median of 5 (target ≤ 5 s)``.
Not a test: it asserts nothing, and exits 1 when over the target only with ``--enforce`` (2 when a run is not GO).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ops_checks.sandbox import postgres  # noqa: E402

TARGET_S = 5.0
PR_SET_CHILD_SUBREAPER = 36


def _adopt_orphans() -> bool:
    """Become the subreaper of the runs' processes: Postgres, which ``pg_ctl`` detaches, is then this process's
    child when it exits, and its CPU time is counted with the rest (Linux; elsewhere it is not counted)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _reap() -> None:
    """Collect the adopted children that have exited (their CPU time then counts in RUSAGE_CHILDREN)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(env: dict[str, str], html: bool) -> tuple[float, float, str, bool]:
    """(wall s, CPU s of every process of the run, the VERDICT line and any item not passed, whether GO)."""
    with tempfile.TemporaryDirectory() as reports:
        argv = [sys.executable, "-m", "ops_checks.cli", "preflight", "--reports", reports, "-q"]
        if not html:
            argv.append("--no-html")
        cpu0 = _children_cpu()
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        _reap()
        cpu = _children_cpu() - cpu0
        failed = [
            f"{i['id']}: {i['reason']}"
            for v in Path(reports).glob("*/verdict.json")
            for i in json.loads(v.read_text())["items"]
            if i["status"] != "passed"
        ]
    last = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else f"exit {proc.returncode}"
    return elapsed, cpu, "; ".join([last, *failed]), proc.returncode == 0 and not failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--html", action="store_true", help="include rendering the single-file HTML report")
    parser.add_argument("--shared-server", action="store_true", help="one server for every run (as the tests do)")
    parser.add_argument("--enforce", action="store_true", help=f"exit 1 when the median is over {TARGET_S:.0f} s")
    args = parser.parse_args()
    _adopt_orphans()
    cache = tempfile.TemporaryDirectory(prefix="opscheck-bench-cache-")
    env = {k: v for k, v in os.environ.items() if k != postgres.DSN_ENV}
    env[postgres.CACHE_ENV] = cache.name
    server = postgres.start_server() if args.shared_server else None
    try:
        if server is not None:
            env[postgres.DSN_ENV] = server.admin_dsn
        load = os.getloadavg()[0]
        first, cpu, verdict, go = one_run(env, args.html)
        what = "builds the server's template" if server else "fresh machine: initdb, template, cache kept"
        print(f"first run ({what}): {first:.2f} s, {cpu:.1f} CPU-s  ({verdict})", flush=True)
        times, cpus, all_go = [], [], go
        for n in range(1, args.runs + 1):
            elapsed, cpu, verdict, go = one_run(env, args.html)
            print(f"run {n}: {elapsed:.2f} s, {cpu:.1f} CPU-s  ({verdict})", flush=True)
            times.append(elapsed)
            cpus.append(cpu)
            all_go = all_go and go
    finally:
        if server is not None:
            server.stop()
        cache.cleanup()
    median = statistics.median(times)
    print(
        f"cores={os.cpu_count()}  load at start={load:.1f}  at end={os.getloadavg()[0]:.1f}  "
        f"wall min {min(times):.2f} max {max(times):.2f} s  CPU median {statistics.median(cpus):.1f} CPU-s"
    )
    html = " with HTML" if args.html else ""
    print(f"preflight warm{html}: {median:.2f} s median of {len(times)} (target ≤ {TARGET_S:.0f} s)")
    if not all_go:
        sys.exit(2)
    if args.enforce and median > TARGET_S:
        sys.exit(1)


if __name__ == "__main__":
    main()
