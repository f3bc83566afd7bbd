"""``opscheck serve``: re-runs the read-only items on an interval and serves the cached verdict.

``/healthz`` answers 200 when every read-only blocker passed (the run's verdict is PARTIAL: the mutating items
are left out by design) and 503 for NO-GO (or before the first run), the body being verdict.json; it
turns 503 with ``"stale": true`` when the last complete verdict is older than two intervals (a monitor that
cannot run any more must not keep serving an old GO). A run that fails in any way is reported as that run's
error and the monitor goes on; stopping the monitor ends the in-flight run (its whole process group).
``/metrics`` has a gauge per item and the last run's duration. Requests are answered from the cache, never by
running checks, so a burst of scrapes costs nothing. Mutating items are never run: the preflight is started
with ``-m "not mutating"`` and without ``--allow-mutations``; a verdict that contains a mutating item anyway is
refused (NO-GO with that reason).
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

READ_ONLY_SELECTION = "not mutating"
KEEP_RUNS = 5


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass
class Cache:
    verdict: dict[str, Any] | None = None
    duration_s: float | None = None
    finished_at: float | None = None
    finished_good_at: float | None = None  # when the last run that produced a verdict finished
    runs: int = 0
    error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


class Monitor:
    """Runs the read-only preflight every ``interval_s`` in a background thread and caches its verdict."""

    def __init__(self, argv: list[str], reports: Path, interval_s: float, mutating_ids: set[str],
                 timeout_s: float = 600) -> None:
        self.argv = argv
        self.reports = reports
        self.interval_s = interval_s
        self.mutating_ids = mutating_ids
        self.timeout_s = timeout_s
        self._started_at = time.time()
        self.cache = Cache()
        self._stop = threading.Event()
        self._proc: subprocess.Popen[str] | None = None
        self._proc_lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="opscheck-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop and end the in-flight run with its whole process group (no orphaned preflight)."""
        self._stop.set()
        self._kill_inflight()
        self._thread.join(10)

    def _kill_inflight(self) -> None:
        with self._proc_lock:
            proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001 - one failed run must not end monitoring
                self._record(None, 0.0, f"monitor run failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            self._stop.wait(self.interval_s)

    def stale(self, now: float | None = None) -> bool:
        """True when the last complete verdict is older than two intervals (or there has been none for that long)."""
        with self.cache.lock:
            finished = self.cache.finished_good_at
        reference = finished if finished is not None else self._started_at
        return (now if now is not None else time.time()) - reference > 2 * self.interval_s

    def _record(self, result: dict[str, Any] | None, duration: float, error: str) -> None:
        with self.cache.lock:
            if result is not None:
                self.cache.verdict = result
                self.cache.finished_good_at = time.time()
            elif self.cache.verdict is not None:
                self.cache.verdict = dict(self.cache.verdict, error=error)
            self.cache.duration_s = duration
            self.cache.finished_at = time.time()
            self.cache.runs += 1
            self.cache.error = error

    def _run_preflight(self) -> str:
        """Run one read-only preflight in its own process group; return an error text or ''."""
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*self.argv, "--reports", str(self.reports)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
        )
        with self._proc_lock:
            self._proc = proc
        try:
            proc.wait(self.timeout_s)
        except subprocess.TimeoutExpired:
            self._kill_inflight()
            return f"the read-only preflight did not finish within {self.timeout_s:.0f} s"
        finally:
            with self._proc_lock:
                self._proc = None
        if self._stop.is_set():
            return "monitor stopped"
        return ""

    def run_once(self) -> None:
        self.reports.mkdir(parents=True, exist_ok=True)
        before = set(self.reports.iterdir())
        start = time.monotonic()
        result: dict[str, Any] | None = None
        error = self._run_preflight()
        self.reports.mkdir(parents=True, exist_ok=True)
        new = sorted(p for p in set(self.reports.iterdir()) - before if (p / "verdict.json").exists())
        if new:
            result = json.loads((new[-1] / "verdict.json").read_text(encoding="utf-8"))
        elif not error:
            error = "the read-only preflight produced no verdict"
        if result is not None:
            ran_mutating = sorted(i["id"] for i in result["items"] if i["id"] in self.mutating_ids)
            if ran_mutating:
                error = f"refused: a mutating item ran ({', '.join(ran_mutating)})"
                result = dict(result, verdict="NO-GO")
        if result is None:
            result = {"verdict": "NO-GO", "items": [], "counts": {}, "warnings": [error]}
        result = dict(result, scope="read-only items", error=error or None)
        self._record(result, time.monotonic() - start, error)
        self._prune()

    def _prune(self) -> None:
        runs = sorted(p for p in self.reports.iterdir() if p.is_dir())
        for old in runs[:-KEEP_RUNS]:
            shutil.rmtree(old, ignore_errors=True)


def read_only_ok(verdict: dict[str, Any] | None) -> bool:
    """Every read-only blocker passed. serve never runs the mutating items, so its runs are PARTIAL at best
    (a selection); PARTIAL here means exactly "the read-only part is GO"."""
    return bool(verdict) and verdict.get("verdict") in ("GO", "PARTIAL") and not verdict.get("error")


def metrics_text(cache: Cache) -> str:
    lines = [
        "# HELP opscheck_item_passed 1 when the item passed (or is waived) in the last read-only run, else 0",
        "# TYPE opscheck_item_passed gauge",
    ]
    with cache.lock:
        verdict, duration, finished, runs = cache.verdict, cache.duration_s, cache.finished_at, cache.runs
    for item in (verdict or {}).get("items", []):
        ok = 1 if item["status"] in ("passed", "waived") else 0
        lines.append(f'opscheck_item_passed{{item="{item["id"]}",severity="{item["severity"]}",'
                     f'status="{item["status"]}"}} {ok}')
    lines += ["# HELP opscheck_verdict_go 1 when the last verdict was GO", "# TYPE opscheck_verdict_go gauge",
              f"opscheck_verdict_go {1 if read_only_ok(verdict) else 0}",
              "# HELP opscheck_last_run_duration_seconds wall time of the last read-only run",
              "# TYPE opscheck_last_run_duration_seconds gauge",
              f"opscheck_last_run_duration_seconds {duration if duration is not None else 'NaN'}",
              "# HELP opscheck_last_run_timestamp_seconds when the last run finished (unix time)",
              "# TYPE opscheck_last_run_timestamp_seconds gauge",
              f"opscheck_last_run_timestamp_seconds {finished if finished is not None else 'NaN'}",
              "# HELP opscheck_runs_total read-only runs since start", "# TYPE opscheck_runs_total counter",
              f"opscheck_runs_total {runs}"]
    return "\n".join(lines) + "\n"


def app(cache: Cache, stale: Callable[[], bool] = lambda: False) -> Starlette:
    async def healthz(request: Request) -> Response:
        with cache.lock:
            verdict, error = cache.verdict, cache.error
        is_stale = stale()
        if verdict is None:
            body = {"verdict": "UNKNOWN", "reason": error or "first read-only run not finished", "stale": is_stale}
            return JSONResponse(body, 503)
        body = dict(verdict, stale=is_stale)
        if is_stale:
            body["reason"] = f"stale: no complete verdict for over two intervals; last error: {error or 'none'}"
        return JSONResponse(body, 200 if read_only_ok(verdict) and not is_stale else 503)

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(metrics_text(cache), media_type="text/plain; version=0.0.4")

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics)])


def preflight_argv(target: str, env_file: Path | None) -> list[str]:
    argv = [sys.executable, "-m", "ops_checks.cli", "preflight", "--target", target, "--no-html",
            "-m", READ_ONLY_SELECTION]
    if env_file is not None:
        argv += ["--env-file", str(env_file)]
    return argv
