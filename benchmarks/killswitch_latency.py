"""Kill-switch response time (runbook §4.5) over N runs of the §4.3 flow against one sandbox.

    .venv/bin/python benchmarks/killswitch_latency.py [--runs 20] [--method sql|api]

Latency: committed UPDATE → first HALT_KILL_SWITCH decision the bot records (polled every 10 ms). The reference
bot's policy loop re-reads system_settings every 100 ms, so expect roughly 0–110 ms plus polling granularity.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ops_checks.procedures import kill_switch  # noqa: E402
from ops_checks.sandbox.environment import Sandbox  # noqa: E402


def percentile(values: list[Decimal], p: float) -> Decimal:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--method", choices=kill_switch.METHODS, default="sql")
    args = parser.parse_args()
    latencies: list[Decimal] = []
    with Sandbox() as sb:
        assert sb.target is not None and sb.valr is not None
        valr = sb.valr
        time.sleep(0.3)
        started = time.monotonic()
        for i in range(args.runs):
            flow = kill_switch.run_flow(
                sb.target, kill_switch.FlowOptions(method=args.method, exchange_orders=lambda: len(valr.orders))
            )
            if not flow.ok or flow.latency_ms is None:
                bad = {k: v.summary() for k, v in flow.results.items() if not v.ok}
                print(f"run {i + 1}: flow failed: {bad or flow.stop_reason}", file=sys.stderr)
                return 1
            latencies.append(flow.latency_ms)
        wall = time.monotonic() - started
    print(f"kill-switch latency over {len(latencies)} runs (method {args.method}, sandbox, poll 10 ms):")
    print(
        f"  min {min(latencies)} ms  median {statistics.median(latencies)} ms  "
        f"p95 {percentile(latencies, 95)} ms  max {max(latencies)} ms"
    )
    print(f"  all: {', '.join(str(x) for x in latencies)}")
    print(f"  wall time {wall:.1f} s ({wall / len(latencies):.2f} s per full six-step flow)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
