"""Wall time of ``make test`` after install, as the issue measures it (2 cores): the whole suite, nothing skipped.

    .venv/bin/python benchmarks/make_test.py [--repo DIR]

``make install tools`` runs first, untimed (the virtualenv, Allure, Postgres binaries, Chromium); then ``make test``
is timed. Prints the wall time, the pytest summary line, the cores, the load average at the start and how busy the
CPUs were over the run (from /proc/stat: the suite is CPU-bound on 2 cores). Not a test: it does not assert.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs so far."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout to test (default: this one)")
    args = parser.parse_args()
    prep = subprocess.run(["make", "install", "tools"], cwd=args.repo, capture_output=True, text=True)
    if prep.returncode != 0:
        sys.exit(f"make install tools failed: {(prep.stderr or prep.stdout).strip().splitlines()[-1:]}")
    load = os.getloadavg()[0]
    busy0, total0 = _cpu()
    start = time.perf_counter()
    proc = subprocess.run(["make", "test"], cwd=args.repo, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    busy1, total1 = _cpu()
    lines = [ln for ln in proc.stdout.splitlines() if " passed" in ln or " failed" in ln]
    summary = lines[-1].strip("= ") if lines else f"exit {proc.returncode}"
    minutes, seconds = divmod(elapsed, 60)
    print(f"make test: {int(minutes)}:{seconds:04.1f} ({elapsed:.1f} s)  {summary}")
    share = 100 * (busy1 - busy0) / (total1 - total0)
    cpu_s = (busy1 - busy0) / os.sysconf("SC_CLK_TCK")
    print(
        f"cores={os.cpu_count()}  load at start={load:.1f}  CPUs busy {share:.0f} % ({cpu_s:.0f} CPU-s)"
        f"  exit {proc.returncode}"
    )


if __name__ == "__main__":
    main()
