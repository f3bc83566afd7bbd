"""``opscheck serve``: cached answers, never a mutating item, and a bounded load test on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ops_checks.cli import server as serve
from ops_checks.cli.serve import mutating_ids
from ops_checks.sandbox.postgres import free_port
from tests.preflight_runner import REPO


def test_mutating_items_are_read_from_the_registry() -> None:
    assert {"1.3.1", "1.4.1", "1.6.2"} <= mutating_ids()
    assert "1.1.1" not in mutating_ids()


@pytest.mark.parametrize(("host", "ok"), [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True),
                                          ("localhost", True), ("0.0.0.0", False), ("192.168.1.5", False)])
def test_only_loopback(host: str, ok: bool) -> None:
    assert serve.loopback(host) is ok


def fake_preflight(tmp_path: Path, items: list[dict[str, str]]) -> list[str]:
    script = tmp_path / "fake.py"
    script.write_text(
        "import json, sys, pathlib\n"
        "d = pathlib.Path(sys.argv[sys.argv.index('--reports') + 1]) / 'run-1'\n"
        "d.mkdir(parents=True, exist_ok=True)\n"
        f"(d / 'verdict.json').write_text(json.dumps({{'verdict': 'GO', 'items': {items!r}, 'counts': {{}}}}))\n")
    return [sys.executable, str(script)]


def test_a_verdict_with_a_mutating_item_is_refused(tmp_path: Path) -> None:
    items = [{"id": "1.3.1", "status": "passed", "severity": "blocker"}]
    monitor = serve.Monitor(fake_preflight(tmp_path, items), tmp_path / "r", 60, {"1.3.1"})
    monitor.run_once()
    assert monitor.cache.verdict is not None and monitor.cache.verdict["verdict"] == "NO-GO"
    assert "mutating item ran (1.3.1)" in monitor.cache.error


def test_metrics_text_has_a_gauge_per_item(tmp_path: Path) -> None:
    items = [{"id": "1.1.1", "status": "passed", "severity": "blocker"},
             {"id": "1.2.4", "status": "failed", "severity": "blocker"}]
    monitor = serve.Monitor(fake_preflight(tmp_path, items), tmp_path / "r", 60, set())
    monitor.run_once()
    text = serve.metrics_text(monitor.cache)
    assert 'opscheck_item_passed{item="1.1.1",severity="blocker",status="passed"} 1' in text
    assert 'opscheck_item_passed{item="1.2.4",severity="blocker",status="failed"} 0' in text
    assert "opscheck_last_run_duration_seconds " in text and "opscheck_verdict_go 1" in text


@pytest.mark.slow
def test_serve_under_load(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    """50 concurrent clients for 5 s on loopback, across serve's next run (2 s after the first ends): every request
    answered, no mutating item ever run. (30 s of it saturated a 2-core CI machine for the whole suite; 5 s still
    spans the start of the next run.)"""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "ops_checks.cli", "serve", "--listen", f"127.0.0.1:{port}",
                             "--interval", "2", "--reports", str(tmp_path / "reports")], cwd=REPO,
                            env=shared_pg_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        first: dict | None = None  # type: ignore[type-arg]
        while time.monotonic() < deadline and first is None:
            try:
                body = httpx.get(f"{url}/healthz", timeout=1).json()
                first = body if body.get("verdict") in ("GO", "NO-GO", "PARTIAL") else None
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert first is not None, "no verdict within 60 s"
        # serve leaves the mutating items out by design: the run is PARTIAL, and healthy means that part passed
        assert first["verdict"] == "PARTIAL" and first["scope"] == "read-only items", first
        assert httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        worst: list[float] = []
        errors: list[str] = []
        stop_at = time.monotonic() + 5

        def client(n: int) -> None:
            path = "/metrics" if n % 5 == 0 else "/healthz"
            with httpx.Client(timeout=2) as c:
                while time.monotonic() < stop_at:
                    t0 = time.monotonic()
                    try:
                        r = c.get(url + path)
                        if r.status_code not in (200, 503):
                            errors.append(f"HTTP {r.status_code}")
                    except httpx.HTTPError as exc:
                        errors.append(type(exc).__name__)
                    worst.append(time.monotonic() - t0)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(40)
        assert not errors, errors[:5]
        # behaviour, not speed: every request was answered (the 2 s client timeout turns a stall into an error)
        assert len(worst) > 50, f"only {len(worst)} requests answered"
        final = httpx.get(f"{url}/healthz", timeout=2).json()
        assert not set(i["id"] for i in final["items"]) & mutating_ids()
        runs = [json.loads(p.read_text()) for p in (tmp_path / "reports").glob("*/verdict.json")]
        assert runs and all(not {i["id"] for i in r["items"]} & mutating_ids() for r in runs)
    finally:
        proc.terminate()
        proc.wait(10)


def test_monitor_survives_a_removed_reports_dir_and_goes_stale(tmp_path: Path) -> None:
    """Issue 13 §7: `make clean` removes the reports dir under a running serve; the monitor reports it and
    /healthz turns 503 with "stale": true once the last complete verdict is older than two intervals."""
    items = [{"id": "1.1.1", "status": "passed", "severity": "blocker"}]
    reports = tmp_path / "r"
    monitor = serve.Monitor(fake_preflight(tmp_path, items), reports, 1, set())
    monitor.run_once()
    assert monitor.cache.verdict is not None and monitor.cache.verdict["verdict"] == "GO"
    # from now on every run fails: the fake preflight's script is gone, and so is the reports dir
    (tmp_path / "fake.py").unlink()
    import shutil

    shutil.rmtree(reports)
    monitor.start()
    try:
        deadline = time.monotonic() + 30
        while monitor.cache.runs < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert monitor.cache.runs >= 3, "the monitor thread died"
        assert monitor._thread.is_alive()
        assert "no verdict" in monitor.cache.error
        assert monitor.stale(now=time.time() + 3)
    finally:
        monitor.stop()
    from starlette.testclient import TestClient

    with TestClient(serve.app(monitor.cache, lambda: monitor.stale(now=time.time() + 3))) as tc:
        r = tc.get("/healthz")
    assert r.status_code == 503 and r.json()["stale"] is True


def test_stop_ends_the_inflight_run(tmp_path: Path) -> None:
    """Ctrl-C on serve must not leave its in-flight preflight running with PPID 1."""
    pidfile = tmp_path / "pid"
    script = tmp_path / "slow.py"
    script.write_text(f"import os, time, pathlib\npathlib.Path({str(pidfile)!r}).write_text(str(os.getpid()))\n"
                      "time.sleep(120)\n")
    monitor = serve.Monitor([sys.executable, str(script)], tmp_path / "r", 60, set())
    monitor.start()
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)  # the child creates the file, then writes its pid: wait for both
    pid = int(pidfile.read_text())
    monitor.stop()
    import os

    deadline = time.monotonic() + 10
    alive = True
    while alive and time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            time.sleep(0.05)
        except ProcessLookupError:
            alive = False
    assert not alive, "the in-flight preflight outlived serve"


@pytest.mark.parametrize("listen", ["127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:abc", "0.0.0.0:9109"])
def test_bad_listen_values_exit_2(listen: str) -> None:
    r = subprocess.run([sys.executable, "-m", "ops_checks.cli", "serve", "--listen", listen],
                       capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
