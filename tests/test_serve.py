"""``opscheck serve``: cached answers, never a mutating item, and a bounded load test on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from ops_checks.cli import monitor as serve
from ops_checks.cli.serve import mutating_ids, read_only_ids
from ops_checks.sandbox.postgres import free_port
from ops_checks.verdict.verdict import EXIT_CODES
from tests.preflight_runner import REPO


def test_mutating_items_are_read_from_the_registry() -> None:
    assert {"1.3.1", "1.4.1", "1.6.2"} <= mutating_ids()
    assert "1.1.1" not in mutating_ids()


@pytest.mark.parametrize(
    ("host", "ok"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
    ],
)
def test_only_loopback(host: str, ok: bool) -> None:
    assert serve.loopback(host) is ok


def item(item_id: str, status: str = "passed", severity: str = "blocker") -> dict[str, str]:
    return {"id": item_id, "status": status, "severity": severity}


def fake_preflight(
    tmp_path: Path,
    items: list[dict[str, str]],
    *,
    label: str = "PARTIAL",
    code: int | None = None,
    run_id: str = "run-1",
    then: str = "",
) -> list[str]:
    """A stand-in for the read-only preflight: writes ``<--reports>/run-1/verdict.json`` (as the real one does:
    PARTIAL, a selection, when every blocker passed), runs ``then``, exits with the verdict's exit code."""
    doc = {"verdict": label, "items": items, "counts": {}, "run_id": run_id, "scope": {"exchanges": ["valr"]}}
    script = tmp_path / "fake.py"
    script.write_text(
        "import json, os, pathlib, signal, sys\n"
        "reports = pathlib.Path(sys.argv[sys.argv.index('--reports') + 1])\n"
        "(reports / 'run-1').mkdir(parents=True, exist_ok=True)\n"
        f"(reports / 'run-1' / 'verdict.json').write_text({json.dumps(doc)!r})\n"
        f"{then}\n"
        f"sys.exit({EXIT_CODES[label] if code is None else code})\n"
    )
    return [sys.executable, str(script)]


def monitor_for(tmp_path: Path, argv: list[str], expected: set[str], mutating: set[str] | None = None) -> serve.Monitor:
    return serve.Monitor(argv, tmp_path / "r", 60, mutating or set(), frozenset(expected))


def healthz(monitor: serve.Monitor) -> tuple[int, dict]:  # type: ignore[type-arg]
    return serve.health(monitor.cache, is_stale=False)


def test_before_the_first_run_healthz_is_503_with_a_reason() -> None:
    status, body = serve.health(serve.Cache(), is_stale=False)
    assert status == 503 and body["verdict"] == "UNKNOWN" and "no completed read-only run yet" in body["reason"]


def test_a_complete_read_only_run_with_every_blocker_passed_is_go_200(tmp_path: Path) -> None:
    """The preflight calls a read-only run PARTIAL (a selection); serve's verdict for its scope is GO."""
    items = [item("1.1.1"), item("1.2.4"), item("8.1.1", "failed", "warning")]
    monitor = monitor_for(tmp_path, fake_preflight(tmp_path, items), {"1.1.1", "1.2.4", "8.1.1"})
    monitor.run_once()
    status, body = healthz(monitor)
    assert status == 200, body
    assert body["verdict"] == "GO" and body["preflight_verdict"] == "PARTIAL" and body["completed"] is True
    assert body["covers"] == "read-only items" and body["reason"] is None and len(body["items"]) == 3
    assert body["scope"] == {"exchanges": ["valr"]}  # the operator's declared scope, as the run recorded it
    from starlette.testclient import TestClient

    with TestClient(serve.app(monitor.cache)) as tc:
        r = tc.get("/healthz")
    assert r.status_code == 200 and r.json()["verdict"] == "GO"


def test_a_complete_run_with_a_failed_blocker_is_no_go_503(tmp_path: Path) -> None:
    items = [item("1.1.1"), item("1.2.4", "failed")]
    monitor = monitor_for(tmp_path, fake_preflight(tmp_path, items, label="NO-GO"), {"1.1.1", "1.2.4"})
    monitor.run_once()
    status, body = healthz(monitor)
    assert status == 503 and body["verdict"] == "NO-GO" and body["completed"] is True
    assert body["reason"] == "NO-GO: blocker item(s) not passed: 1.2.4 failed"


def test_a_partial_verdict_is_503_and_not_served(tmp_path: Path) -> None:
    """The probe's case: pytest was stopped after 1 of 3 items; the preflight still wrote PARTIAL and exited 3."""
    monitor = monitor_for(tmp_path, fake_preflight(tmp_path, [item("1.1.1")]), {"1.1.1", "1.2.4", "1.2.5"})
    monitor.run_once()
    status, body = healthz(monitor)
    assert status == 503 and body["verdict"] == "PARTIAL" and body["completed"] is False
    assert (
        "covers only 1 of 3 read-only items (the run did not complete; 2 not checked: 1.2.4, 1.2.5)" in (body["reason"])
    )
    assert "items" not in body and "\n" not in body["reason"]


def test_a_killed_child_is_503_and_its_items_are_not_current(tmp_path: Path) -> None:
    """A GO run, then one whose child is killed after writing a whole verdict: 503 with the reason; /metrics keeps
    the completed run's items, names that run, and says the last run did not complete."""
    items = [item("1.1.1"), item("1.2.4")]
    monitor = monitor_for(tmp_path, fake_preflight(tmp_path, items), {"1.1.1", "1.2.4"})
    monitor.run_once()
    assert healthz(monitor)[0] == 200
    good = monitor.cache.completed
    assert good is not None
    fake_preflight(tmp_path, [item("1.1.1"), item("1.2.4", "failed")], then="os.kill(os.getpid(), signal.SIGKILL)")
    monitor.run_once()
    status, body = healthz(monitor)
    assert status == 503 and body["completed"] is False and body["verdict"] == "PARTIAL"
    assert "the preflight was killed by SIGKILL" in body["reason"]
    assert body["last_completed_run"]["run"] == good["run"] and body["last_completed_run"]["verdict"] == "GO"
    text = serve.metrics_text(monitor.cache)
    assert "opscheck_last_run_completed 0" in text and "opscheck_verdict_go 0" in text
    assert f'opscheck_items_run_info{{run="{good["run"]}"}} 1' in text
    assert 'opscheck_item_passed{item="1.2.4",severity="blocker",status="passed"} 1' in text  # the completed run's


@pytest.mark.parametrize(
    ("then", "code", "reason"),
    [
        ("", 143, "the preflight was interrupted by SIGTERM (exit 143)"),
        ("", 0, "the preflight exited 0 but its verdict says PARTIAL"),
        ("(reports / 'run-2').mkdir()", None, "serve's run directory holds 2 runs"),
    ],
)
def test_a_run_serve_did_not_see_complete_is_503(tmp_path: Path, then: str, code: int | None, reason: str) -> None:
    monitor = monitor_for(tmp_path, fake_preflight(tmp_path, [item("1.1.1")], code=code, then=then), {"1.1.1"})
    monitor.run_once()
    status, body = healthz(monitor)
    assert status == 503 and body["completed"] is False and reason in body["reason"], body


def test_a_planted_verdict_is_never_served(tmp_path: Path) -> None:
    """A GO verdict.json put in a new folder of the reports dir during the run (the probe's plant), or one naming
    another run inside serve's own run directory: neither is read."""
    plant = (
        "planted = reports.parent / 'planted'\nplanted.mkdir()\n"
        '(planted / \'verdict.json\').write_text(\'{"verdict":"GO","items":[]}\')\n'
    )
    items = [item("1.1.1", "failed")]
    monitor = monitor_for(tmp_path, fake_preflight(tmp_path, items, label="NO-GO", then=plant), {"1.1.1"})
    monitor.run_once()
    status, body = healthz(monitor)
    assert status == 503 and body["verdict"] == "NO-GO" and body["items"] == items
    assert (tmp_path / "r" / "planted" / "verdict.json").exists()  # left alone, and never read
    foreign = monitor_for(
        tmp_path, fake_preflight(tmp_path, [item("1.1.1")], run_id="20260101T000000Z-abcdef"), {"1.1.1"}
    )
    foreign.run_once()
    status, body = healthz(foreign)
    assert status == 503 and body["verdict"] == "UNKNOWN" and "a foreign verdict" in body["reason"]


def test_a_verdict_with_a_mutating_item_is_refused(tmp_path: Path) -> None:
    monitor = monitor_for(tmp_path, fake_preflight(tmp_path, [item("1.3.1")]), {"1.1.1"}, {"1.3.1"})
    monitor.run_once()
    status, body = healthz(monitor)
    assert status == 503 and body["verdict"] == "NO-GO" and "mutating item ran (1.3.1)" in body["reason"]


def test_metrics_text_has_a_gauge_per_item(tmp_path: Path) -> None:
    items = [item("1.1.1"), item("1.2.4", "failed")]
    monitor = monitor_for(tmp_path, fake_preflight(tmp_path, items, label="NO-GO"), {"1.1.1", "1.2.4"})
    monitor.run_once()
    text = serve.metrics_text(monitor.cache)
    assert 'opscheck_item_passed{item="1.1.1",severity="blocker",status="passed"} 1' in text
    assert 'opscheck_item_passed{item="1.2.4",severity="blocker",status="failed"} 0' in text
    assert "opscheck_last_run_duration_seconds " in text and "opscheck_verdict_go 0" in text
    assert "opscheck_last_run_completed 1" in text


def test_only_serves_own_run_dirs_and_prunes_only_them(tmp_path: Path) -> None:
    monitor = monitor_for(tmp_path, fake_preflight(tmp_path, [item("1.1.1")]), {"1.1.1"})
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "zzz-other").mkdir()
    for _ in range(serve.KEEP_RUNS + 1):
        monitor.run_once()
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert len(names) == serve.KEEP_RUNS + 1 and "zzz-other" in names
    assert all(serve.RUN_DIR.fullmatch(n) for n in names if n != "zzz-other")


@pytest.mark.slow
def test_serve_under_load(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    """50 concurrent clients for 5 s on loopback, across serve's next run (2 s after the first ends): every request
    answered, no mutating item ever run. (30 s of it saturated a 2-core CI machine for the whole suite; 5 s still
    spans the start of the next run.)"""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ops_checks.cli",
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--interval",
            "2",
            "--reports",
            str(tmp_path / "reports"),
        ],
        cwd=REPO,
        env=shared_pg_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        first: dict | None = None  # type: ignore[type-arg]
        while time.monotonic() < deadline and first is None:
            try:
                body = httpx.get(f"{url}/healthz", timeout=1).json()
                first = body if body.get("run") else None  # the first run has finished
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert first is not None, "no verdict within 60 s"
        # serve leaves the mutating items out by design: the preflight calls the run PARTIAL; serve's verdict for
        # its scope (the read-only items) is GO
        assert first["verdict"] == "GO" and first["preflight_verdict"] == "PARTIAL", first
        assert first["covers"] == "read-only items" and len(first["items"]) == len(read_only_ids()), first
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
        runs = [json.loads(p.read_text()) for p in (tmp_path / "reports").glob("serve-*/*/verdict.json")]
        assert runs and all(not {i["id"] for i in r["items"]} & mutating_ids() for r in runs)
    finally:
        proc.terminate()
        proc.wait(10)


def _pytest_of(reports: Path) -> tuple[int, Path] | None:
    """The pid and run dir of the pytest run a preflight started with its reports under ``reports``."""
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "pytest" in argv and "--run-dir" in argv and argv.index("--run-dir") + 1 < len(argv):
            run_dir = Path(argv[argv.index("--run-dir") + 1])
            if run_dir.is_relative_to(reports):
                return int(proc.name), run_dir
    return None


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds serve's pytest run through /proc")
def test_serve_does_not_serve_a_run_whose_pytest_was_killed(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    """The probe's reproduction end to end: SIGTERM to serve's pytest run mid-run. That run still writes a verdict
    for the items it reached and its preflight exits 3 (PARTIAL) as a whole read-only run does; serve answers 503
    with the reason, and /metrics has no item of that run."""
    port = free_port()
    reports = tmp_path / "reports"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ops_checks.cli",
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--interval",
            "600",
            "--reports",
            str(reports),
        ],
        cwd=REPO,
        env=shared_pg_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        found = None
        while found is None and time.monotonic() < deadline:
            found = _pytest_of(reports)
            time.sleep(0.05)
        assert found is not None, "serve's pytest run never started"
        pid, run_dir = found
        while len(list((run_dir / "allure-results").glob("*-result.json"))) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)  # mid-run: a few items have finished
        os.kill(pid, signal.SIGTERM)
        body: dict = {}  # type: ignore[type-arg]
        while not body.get("run") and time.monotonic() < deadline:
            try:
                r = httpx.get(f"{url}/healthz", timeout=2)
                body = r.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        assert body.get("run"), f"the killed run was never reported: {body}"
        assert r.status_code == 503 and body["completed"] is False, body
        assert body["verdict"] in ("PARTIAL", "UNKNOWN"), body
        assert body["reason"].startswith(f"run {body['run']} is not served: "), body
        if body["verdict"] == "PARTIAL":  # the run left its verdict for the items it reached
            assert f"of {len(read_only_ids())} read-only items" in body["reason"], body
        text = httpx.get(f"{url}/metrics", timeout=2).text
        assert "opscheck_last_run_completed 0" in text and "opscheck_item_passed{" not in text, text
        assert "opscheck_verdict_go 0" in text
    finally:
        proc.terminate()
        proc.wait(60)


def test_monitor_survives_a_removed_reports_dir_and_goes_stale(tmp_path: Path) -> None:
    """Issue 13 §7: `make clean` removes the reports dir under a running serve; the monitor reports it and
    /healthz turns 503 with "stale": true once the last complete verdict is older than two intervals."""
    reports = tmp_path / "r"
    monitor = serve.Monitor(fake_preflight(tmp_path, [item("1.1.1")]), reports, 1, set(), frozenset({"1.1.1"}))
    monitor.run_once()
    assert healthz(monitor)[0] == 200
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
        last = monitor.cache.last
        assert last is not None and not last["completed"] and "no verdict" in last["reason"], last
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
    script.write_text(
        f"import os, time, pathlib\npathlib.Path({str(pidfile)!r}).write_text(str(os.getpid()))\ntime.sleep(120)\n"
    )
    monitor = serve.Monitor([sys.executable, str(script)], tmp_path / "r", 60, set(), frozenset())
    monitor.start()
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)  # the child creates the file, then writes its pid: wait for both
    pid = int(pidfile.read_text())
    monitor.stop()

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
    r = subprocess.run(
        [sys.executable, "-m", "ops_checks.cli", "serve", "--listen", listen],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("interval", ["inf", "nan", "1e300", "0.5"])
def test_an_interval_that_is_not_a_sane_number_of_seconds_cannot_run(interval: str) -> None:
    """``--interval inf`` once killed the monitor after its first run while /healthz kept answering 200 GO."""
    from typer.testing import CliRunner

    from ops_checks.cli.app import app

    r = CliRunner().invoke(app, ["serve", "--interval", interval])
    assert r.exit_code == 2 and "--interval must be a number of seconds from 1 to 86400" in r.output, r.output
