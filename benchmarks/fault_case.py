"""One fault-matrix case, two ways: ``opscheck preflight`` in a subprocess (the old matrix) and the same pytest run
in this process (``tests.preflight_runner.preflight_in_process``, the matrix now). Same faults, same server.

    .venv/bin/python benchmarks/fault_case.py [--faults budgetguard_lenient,kill_switch_slow,audit_chain_broken]

Prints wall and CPU seconds per case and their sums. Not a test: it does not assert (it prints each verdict).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ops_checks.sandbox import postgres  # noqa: E402
from ops_checks.sandbox.faults import registry  # noqa: E402
from tests.preflight_runner import preflight, preflight_in_process  # noqa: E402
from tests.test_fault_matrix import feature_glob, scoped_argv, section_selection  # noqa: E402

DEFAULT = "budgetguard_lenient,kill_switch_slow,audit_chain_broken,db_connect_revoked,clock_skew_1500,funding_spike"


def cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faults", default=DEFAULT)
    args = parser.parse_args()
    faults = [f.strip() for f in args.faults.split(",") if f.strip()]
    server = postgres.start_server()
    os.environ[postgres.DSN_ENV] = server.admin_dsn
    totals = {"subprocess": [0.0, 0.0], "in-process": [0.0, 0.0]}
    try:
        postgres.template_database(server)
        with tempfile.TemporaryDirectory() as tmp:
            preflight_in_process(Path(tmp) / "warm", faults=[faults[0]], select="section_2_2")  # imports, once
            for fault in faults:
                item = registry()[fault].item
                argv, optional = scoped_argv(fault)
                for way in ("subprocess", "in-process"):
                    wall, used = time.perf_counter(), cpu()
                    if way == "subprocess":
                        run = preflight(Path(tmp) / way, "--no-html", *argv, env=dict(os.environ))
                    else:
                        run = preflight_in_process(
                            Path(tmp) / way, faults=[fault], select=section_selection(item), cadence=optional
                        )
                    wall, used = time.perf_counter() - wall, cpu() - used
                    totals[way][0] += wall
                    totals[way][1] += used
                    got = run.verdict["verdict"] if run.verdict else "no verdict"
                    print(f"{fault:32} {feature_glob(item):22} {way:10} {wall:6.2f} s wall {used:6.2f} s cpu  {got}")
    finally:
        server.stop()
    for way, (wall, used) in totals.items():
        print(f"sum {way:10} {wall:7.2f} s wall {used:7.2f} s cpu  ({len(faults)} faults)")
    print(f"cores={os.cpu_count()} load={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
