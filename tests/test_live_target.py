"""The live target against components that are down or hung: NO-GO within 15 s, one-line reasons, no traceback.

Only loopback addresses are used: closed ports (refused at once) and a listener that accepts connections and
never answers (a hung service: the checks' timeouts must fire).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops_checks.sandbox.postgres import free_port
from tests.preflight_runner import preflight

SECRET = "live-test-secret-value-abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A TCP listener that accepts and then says nothing."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join(2)
    for c in held:
        c.close()
    srv.close()


def env_file(tmp_path: Path, db_port: int, http_port: int) -> Path:
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
        "LOG_DIR": str(tmp_path / "no-logs"),
        "DISCORD_WEBHOOK_URL": f"http://127.0.0.1:{closed}/api/webhooks/1/{SECRET}",
        "EXECUTION_MODE": "DRY_RUN",
        "MAX_ORDER_ZAR": "5000",
        "MAX_RISK_ZAR": "5000",
        "ZAR_FLOOR": "20000",
    }
    path = tmp_path / "live.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    return path


def check(run_out: str, verdict: dict | None, elapsed: float, limit_s: float = 120) -> None:  # type: ignore[type-arg]
    """Behaviour only; ``limit_s`` catches a hang (speed is measured in benchmarks/live_unreachable.py)."""
    assert verdict is not None, run_out[-2000:]
    assert elapsed < limit_s, f"took {elapsed:.1f} s: a hang"
    assert verdict["verdict"] == "NO-GO"
    assert "Traceback" not in run_out
    assert SECRET not in run_out and SECRET[:8] not in run_out
    for item in verdict["items"]:
        if item["status"] != "passed":
            assert item["reason"] and "\n" not in item["reason"], item
    by_id = {i["id"]: i for i in verdict["items"]}
    assert by_id["1.1.1"]["status"] == "failed"
    assert by_id["1.3.1"]["status"] == "not_verified" and "allow-mutations" in by_id["1.3.1"]["reason"]
    # issue 22: an HTTP item neither waits on nor names the database; a refused connection is not a refused key
    assert by_id["1.1.6"]["status"] == "failed" and "database" not in by_id["1.1.6"]["reason"]
    assert not any("refused VALR_API_KEY" in i["reason"] or "['" in i["reason"] for i in verdict["items"])


@pytest.mark.slow
def test_unreachable_database_and_services(tmp_path: Path) -> None:
    start = time.monotonic()
    run = preflight(
        tmp_path / "r", "--target", "live", "--env-file", str(env_file(tmp_path, free_port(), free_port())), "--no-html"
    )
    check(run.output, run.verdict, time.monotonic() - start)
    assert run.exit_code == 1


@pytest.mark.slow
def test_hung_database_and_bot(tmp_path: Path, hung_port: int) -> None:
    start = time.monotonic()
    run = preflight(
        tmp_path / "r", "--target", "live", "--env-file", str(env_file(tmp_path, hung_port, hung_port)), "--no-html"
    )
    # a hung database (3 s connect timeout) and a hung bot (5 s read timeout) are each waited for once: ~14 s on an
    # idle machine; the bound leaves room for a loaded CI worker while still failing any unbounded wait
    check(run.output, run.verdict, time.monotonic() - start)
    assert run.exit_code == 1


def test_unreadable_env_file_exits_2(tmp_path: Path) -> None:
    run = preflight(tmp_path / "r", "--target", "live", "--env-file", str(tmp_path / "missing.env"), "--no-html")
    assert run.exit_code == 2 and run.verdict is None
    assert "Traceback" not in run.output and "missing.env" in run.output
