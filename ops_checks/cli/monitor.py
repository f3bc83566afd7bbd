"""``opscheck serve``: re-runs the read-only items on an interval and serves the verdict of the last run it saw
complete.

Each run gets a directory serve creates for it (``<reports>/serve-<id>/``, the preflight's ``--reports``), and
serve reads the one verdict.json inside it: never "the newest folder" of the reports directory, so a verdict.json
put anywhere else is never read. A run counts as complete only when serve saw it so: the preflight exited by
itself with 0, 1 or 3, that exit code matches its verdict, the verdict names the run directory it sits in, and it
has a result for every read-only item of the daily preflight (a pytest killed mid-run still writes a verdict, for
the items it reached, and its preflight still exits 3: that run is incomplete). A run serve ended (its timeout,
the monitor stopping), a child killed by a signal, no verdict, a verdict from another run or one that covers
only part of the selection is reported with its reason, and nothing of it is served as current.

serve's verdict is for its scope, the read-only items: GO when the run completed and every blocker passed (the
preflight itself says PARTIAL, since the mutating items are left out by design: kept as ``preflight_verdict``),
NO-GO when it completed otherwise; PARTIAL when the last run left a verdict for part of the selection only;
UNKNOWN when it left none. ``/healthz`` answers 200 for GO only and 503 otherwise (NO-GO, PARTIAL, UNKNOWN, no
completed run yet, or ``"stale": true`` when the last completed run is older than two intervals: a monitor that
cannot run any more must not keep serving an old GO); every 503 body has a one-line ``reason``. A run that fails
in any way is reported as that run's reason and the monitor goes on; stopping the monitor ends the in-flight run.
``/metrics`` has a gauge per item from the last *completed* run (``opscheck_items_run_info`` names that run),
whether the last run completed, and the last run's duration. Requests are answered from the cache, never by
running checks, so a burst of scrapes costs nothing. Mutating items are never run: the preflight is started
with ``-m "not mutating"`` and without ``--allow-mutations``; a verdict that contains a mutating item anyway is
refused (NO-GO with that reason).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ops_checks.cli import supervise
from ops_checks.verdict import verdict as verdicts

READ_ONLY_SELECTION = "not mutating"
SCOPE = "read-only items"
KEEP_RUNS = 5
UNKNOWN = "UNKNOWN"
RUN_DIR = re.compile(r"serve-\d{8}T\d{6}Z-[0-9a-f]{6}")  # the directories serve creates, one per run
NORMAL_EXITS = {verdicts.EXIT_GO, verdicts.EXIT_NO_GO, verdicts.EXIT_PARTIAL}  # the preflight ran to its verdict
LOG = "preflight.log"  # the preflight's own output, in serve's run directory


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(frozen=True)
class Observed:
    """What serve itself saw of one run it supervised."""

    run_dir: Path  # the directory serve created for this run (the preflight's --reports)
    returncode: int | None  # None: the child did not exit by itself (serve ended it)
    ended_by: str = ""  # why serve ended it


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _ids(ids: Iterable[str], most: int = 5) -> str:
    ordered = sorted(ids, key=verdicts.sort_key)
    return ", ".join(ordered[:most]) + (", …" if len(ordered) > most else "")


def _exit_text(code: int) -> str:
    def name(n: int) -> str:
        try:
            return signal.Signals(n).name
        except ValueError:
            return f"signal {n}"

    if code < 0:
        return f"was killed by {name(-code)}"
    if code > 128:
        return f"was interrupted by {name(code - 128)} (exit {code})"
    if code == verdicts.EXIT_CANNOT_RUN:
        return "exited 2 (could not run)"
    return f"exited {code}, which is no verdict's exit code"


def _log_tail(run_dir: Path) -> str:
    try:
        lines = [ln for ln in (run_dir / LOG).read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return _one_line(lines[-1], 200) if lines else ""


def _load(run_dir: Path) -> tuple[dict[str, Any] | None, str]:
    """The verdict the preflight wrote in ``run_dir`` (serve's own directory for this run), or the problem."""
    try:
        runs = [p for p in run_dir.iterdir() if p.is_dir()]
    except OSError:
        return None, "serve's run directory is gone"
    if not runs:
        return None, "the preflight wrote no verdict"
    if len(runs) > 1:
        return None, f"serve's run directory holds {len(runs)} runs, not the one it started: none is read"
    path = runs[0] / "verdict.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "the preflight wrote no verdict"
    except (OSError, ValueError) as exc:
        return None, f"verdict.json cannot be read ({type(exc).__name__})"
    items = doc.get("items") if isinstance(doc, dict) else None
    if not (
        isinstance(items, list)
        and isinstance(doc.get("verdict"), str)
        and all(
            isinstance(i, dict) and all(isinstance(i.get(k), str) for k in ("id", "status", "severity")) for i in items
        )
    ):
        return None, "verdict.json is not a verdict"
    if doc.get("run_id") != runs[0].name:
        return None, f"verdict.json names run {doc.get('run_id')!r}, not {runs[0].name!r}: a foreign verdict"
    return doc, ""


def judge(seen: Observed, expected: frozenset[str], mutating: set[str]) -> dict[str, Any]:
    """The body /healthz serves for one run: serve's verdict for the read-only scope, ``completed`` only when
    the run is complete (see the module's docstring), and a one-line ``reason`` whenever it is not GO."""
    run = seen.run_dir.name
    doc, problem = _load(seen.run_dir)
    coverage = ""
    if doc is not None:
        ran = {i["id"] for i in doc["items"]}
        ran_mutating = ran & mutating
        if ran_mutating:
            return {
                "verdict": verdicts.NO_GO,
                "covers": SCOPE,
                "run": run,
                "completed": False,
                "reason": f"run {run} is refused: a mutating item ran ({_ids(ran_mutating, 20)})",
            }
        missing = expected - ran
        if missing:
            coverage = (
                f"its verdict covers only {len(expected & ran)} of {len(expected)} read-only items "
                f"(the run did not complete; {len(missing)} not checked: {_ids(missing)})"
            )
    causes = []
    if seen.ended_by:
        causes.append(seen.ended_by)
    elif seen.returncode not in NORMAL_EXITS:
        tail = _log_tail(seen.run_dir) if seen.returncode == verdicts.EXIT_CANNOT_RUN else ""
        causes.append(f"the preflight {_exit_text(seen.returncode or 0)}" + (f" ({tail})" if tail else ""))
    elif doc is not None and verdicts.EXIT_CODES.get(doc["verdict"]) != seen.returncode:
        causes.append(f"the preflight exited {seen.returncode} but its verdict says {doc['verdict']}")
    causes += [c for c in (problem, coverage) if c]
    if causes or doc is None:
        return {
            "verdict": verdicts.PARTIAL if doc is not None else UNKNOWN,
            "covers": SCOPE,
            "run": run,
            "completed": False,
            "reason": _one_line(f"run {run} is not served: {'; '.join(causes)}", 600),
        }
    not_met = {
        i["id"]: i["status"] for i in doc["items"] if i["severity"] == "blocker" and i["status"] not in verdicts.MET
    }
    go = doc["verdict"] in (verdicts.GO, verdicts.PARTIAL) and bool(doc["items"]) and not not_met
    if go:
        reason = None
    elif not_met:
        reason = "NO-GO: blocker item(s) not passed: " + _ids(f"{i} {s}" for i, s in not_met.items())
    else:
        reason = f"NO-GO: the preflight's verdict is {doc['verdict']}"
    return dict(
        doc,
        verdict=verdicts.GO if go else verdicts.NO_GO,
        preflight_verdict=doc["verdict"],
        covers=SCOPE,
        run=f"{run}/{doc['run_id']}",
        completed=True,
        reason=reason,
    )


@dataclass
class Cache:
    """What the monitor knows; the monitor thread writes it, requests read it (both under ``lock``)."""

    last: dict[str, Any] | None = None  # the body for the last run that finished (None: none yet)
    completed: dict[str, Any] | None = None  # the last run serve saw complete: /metrics' items come from it
    completed_at: float | None = None
    duration_s: float | None = None
    finished_at: float | None = None
    runs: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _summary(body: dict[str, Any] | None, at: float | None) -> dict[str, Any] | None:
    if body is None or at is None:
        return None
    return {"run": body["run"], "verdict": body["verdict"], "finished_at": datetime.fromtimestamp(at, UTC).isoformat()}


def health(cache: Cache, is_stale: bool) -> tuple[int, dict[str, Any]]:
    """/healthz's status and body: 200 only for a completed GO run that is not stale; 503 with a reason else."""
    with cache.lock:
        last, completed, completed_at = cache.last, cache.completed, cache.completed_at
    if last is None:
        return 503, {
            "verdict": UNKNOWN,
            "covers": SCOPE,
            "completed": False,
            "stale": is_stale,
            "reason": "no completed read-only run yet: the first run has not finished",
        }
    body = dict(last, stale=is_stale)
    if not last["completed"]:
        body["last_completed_run"] = _summary(completed, completed_at)
    if is_stale:
        body["reason"] = _one_line(
            f"stale: no completed run for over two intervals; last run: {last.get('reason') or last['verdict']}", 600
        )
    ok = last["completed"] and last["verdict"] == verdicts.GO and not is_stale
    return (200 if ok else 503), body


class Monitor:
    """Runs the read-only preflight every ``interval_s`` in a background thread and caches its verdict.

    ``expected_ids``: the items every run must report for it to count as complete."""

    def __init__(
        self,
        argv: list[str],
        reports: Path,
        interval_s: float,
        mutating_ids: set[str],
        expected_ids: frozenset[str],
        timeout_s: float = 600,
    ) -> None:
        self.argv = argv
        self.reports = reports
        self.interval_s = interval_s
        self.mutating_ids = mutating_ids
        self.expected_ids = expected_ids
        self.timeout_s = timeout_s
        self._started_at = time.time()
        self.cache = Cache()
        self._stop = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
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
        # the preflight forwards SIGTERM to its pytest run and gives it supervise.GRACE_S to tear down and write
        # its verdict before it escalates: only then is the preflight itself killed
        for sig, wait in ((signal.SIGTERM, supervise.GRACE_S + 5), (signal.SIGKILL, 5.0)):
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
                reason = _one_line(f"monitor run failed: {type(exc).__name__}: {exc}")
                self._record(
                    {"verdict": UNKNOWN, "covers": SCOPE, "run": None, "completed": False, "reason": reason}, 0.0
                )
            self._stop.wait(self.interval_s)

    def stale(self, now: float | None = None) -> bool:
        """True when the last completed run is older than two intervals (or there has been none for that long)."""
        with self.cache.lock:
            finished = self.cache.completed_at
        reference = finished if finished is not None else self._started_at
        return (now if now is not None else time.time()) - reference > 2 * self.interval_s

    def _record(self, body: dict[str, Any], duration: float) -> None:
        with self.cache.lock:
            now = time.time()
            self.cache.last = body
            if body["completed"]:
                self.cache.completed, self.cache.completed_at = body, now
            self.cache.duration_s = duration
            self.cache.finished_at = now
            self.cache.runs += 1

    def _new_run_dir(self) -> Path:
        run_dir = self.reports / f"serve-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        run_dir.mkdir(parents=True, mode=0o700)  # a fresh directory: FileExistsError rather than reuse one
        return run_dir

    def _run_preflight(self, run_dir: Path) -> Observed:
        """Run one read-only preflight in its own process group, its reports in ``run_dir``."""
        with (run_dir / LOG).open("wb") as log:
            proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [*self.argv, "--reports", str(run_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with self._proc_lock:
            self._proc = proc
        try:
            proc.wait(self.timeout_s)
        except subprocess.TimeoutExpired:
            self._kill_inflight()
            return Observed(
                run_dir,
                None,
                f"the read-only preflight did not finish within {self.timeout_s:.0f} s and serve ended it",
            )
        finally:
            with self._proc_lock:
                self._proc = None
        if self._stop.is_set():
            return Observed(run_dir, None, "the monitor stopped during the run")
        return Observed(run_dir, proc.returncode)

    def run_once(self) -> None:
        start = time.monotonic()
        run_dir = self._new_run_dir()
        body = judge(self._run_preflight(run_dir), self.expected_ids, self.mutating_ids)
        self._record(body, time.monotonic() - start)
        self._prune(keep=run_dir)

    def _prune(self, keep: Path) -> None:
        """Only serve's own run directories, the newest KEEP_RUNS; nothing else in the reports directory."""
        try:
            older = sorted(p for p in self.reports.iterdir() if p.is_dir() and RUN_DIR.fullmatch(p.name) and p != keep)
        except OSError:
            return
        for old in older[: max(len(older) - (KEEP_RUNS - 1), 0)]:
            shutil.rmtree(old, ignore_errors=True)


def metrics_text(cache: Cache, is_stale: bool = False) -> str:
    status, _ = health(cache, is_stale)
    with cache.lock:
        last, completed, completed_at = cache.last, cache.completed, cache.completed_at
        duration, finished, runs = cache.duration_s, cache.finished_at, cache.runs
    lines = [
        "# HELP opscheck_item_passed 1 when the item is met (passed, waived or declared not applicable) in the last "
        "completed read-only run (opscheck_items_run_info names it), else 0; status: passed, failed, error, "
        "not_verified, not_applicable or waived",
        "# TYPE opscheck_item_passed gauge",
    ]
    for item in (completed or {}).get("items", []):
        ok = 1 if item["status"] in verdicts.MET else 0
        lines.append(
            f'opscheck_item_passed{{item="{item["id"]}",severity="{item["severity"]}",status="{item["status"]}"}} {ok}'
        )
    if completed is not None:
        causes = [c for c in completed.get("causes") or [] if isinstance(c, dict) and c.get("blocking", True)]
        lines += [
            "# HELP opscheck_causes the causes that block the last completed read-only run (each explains one or "
            "more items not passed; verdict.json lists them with their remedies)",
            "# TYPE opscheck_causes gauge",
            f"opscheck_causes {len(causes)}",
            "# HELP opscheck_items_run_info the completed run the opscheck_item_passed gauges come from",
            "# TYPE opscheck_items_run_info gauge",
            f'opscheck_items_run_info{{run="{completed["run"]}"}} 1',
        ]
    lines += [
        "# HELP opscheck_items_run_timestamp_seconds when the run the item gauges come from finished",
        "# TYPE opscheck_items_run_timestamp_seconds gauge",
        f"opscheck_items_run_timestamp_seconds {completed_at if completed_at is not None else 'NaN'}",
        "# HELP opscheck_last_run_completed 1 when the last run completed (its child exited by itself with "
        "a verdict for every read-only item), else 0",
        "# TYPE opscheck_last_run_completed gauge",
        f"opscheck_last_run_completed {1 if last is not None and last['completed'] else 0}",
        "# HELP opscheck_verdict_go 1 when /healthz answers 200: the last run completed GO and is not stale",
        "# TYPE opscheck_verdict_go gauge",
        f"opscheck_verdict_go {1 if status == 200 else 0}",
        "# HELP opscheck_last_run_duration_seconds wall time of the last read-only run",
        "# TYPE opscheck_last_run_duration_seconds gauge",
        f"opscheck_last_run_duration_seconds {duration if duration is not None else 'NaN'}",
        "# HELP opscheck_last_run_timestamp_seconds when the last run finished (unix time)",
        "# TYPE opscheck_last_run_timestamp_seconds gauge",
        f"opscheck_last_run_timestamp_seconds {finished if finished is not None else 'NaN'}",
        "# HELP opscheck_runs_total read-only runs since start",
        "# TYPE opscheck_runs_total counter",
        f"opscheck_runs_total {runs}",
    ]
    return "\n".join(lines) + "\n"


def app(cache: Cache, stale: Callable[[], bool] = lambda: False) -> Starlette:
    async def healthz(request: Request) -> Response:
        status, body = health(cache, stale())
        return JSONResponse(body, status)

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(metrics_text(cache, stale()), media_type="text/plain; version=0.0.4")

    return Starlette(routes=[Route("/healthz", healthz), Route("/metrics", metrics)])


def preflight_argv(target: str, env_file: Path | None) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "ops_checks.cli",
        "preflight",
        "--target",
        target,
        "--no-html",
        "-m",
        READ_ONLY_SELECTION,
    ]
    if env_file is not None:
        argv += ["--env-file", str(env_file)]
    return argv
