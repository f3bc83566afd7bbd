"""Live preflight against hosts that refuse, and hosts that hang (accept, never answer): wall time per run.

    .venv/bin/python benchmarks/live_unreachable.py --runs 3

Issue 16's targets: every host refusing ≤ 5 s, every host hung ≤ 10 s. Figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECRET = "bench-" + "s" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hung_listener() -> tuple[int, threading.Event]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    srv.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except TimeoutError:
                continue
        for c in held:
            c.close()
        srv.close()

    threading.Thread(target=accept, daemon=True).start()
    return int(srv.getsockname()[1]), stop


def env_file(directory: Path, db_port: int, http_port: int) -> Path:
    closed = free_port()
    lines = {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": db_port,
        "DB_NAME": "autonomous_alpha",
        "DB_USER": "app_trading",
        "DB_PASSWORD": SECRET,
        "BOT_API_URL": f"http://127.0.0.1:{http_port}",
        "METRICS_URL": f"http://127.0.0.1:{closed}/metrics",
        "GRAFANA_URL": f"http://127.0.0.1:{closed}",
        "VALR_BASE_URL": f"http://127.0.0.1:{http_port}",
        "VALR_API_KEY": SECRET,
        "VALR_API_SECRET": SECRET,
        "WEBHOOK_SECRET": SECRET,
        "SOVEREIGN_SECRET": SECRET,
        "LOG_DIR": str(directory / "no-logs"),
        "EXECUTION_MODE": "DRY_RUN",
        "MAX_ORDER_ZAR": "5000",
        "MAX_RISK_ZAR": "5000",
        "ZAR_FLOOR": "20000",
    }
    path = directory / "live.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    return path


def one_run(env: Path, reports: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ops_checks.cli",
            "preflight",
            "--target",
            "live",
            "--env-file",
            str(env),
            "--no-html",
            "--reports",
            str(reports),
        ],
        cwd=REPO,
        capture_output=True,
        timeout=600,
        check=False,
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        refusing = env_file(d, free_port(), free_port())
        times = [one_run(refusing, d / "r") for _ in range(args.runs)]
        print(f"every host refusing: median {statistics.median(times):.1f} s  runs {[round(t, 1) for t in times]}")
        port, stop = hung_listener()
        hung = env_file(d, port, port)
        times = [one_run(hung, d / "r") for _ in range(args.runs)]
        stop.set()
        print(f"every host hung:     median {statistics.median(times):.1f} s  runs {[round(t, 1) for t in times]}")


if __name__ == "__main__":
    main()
