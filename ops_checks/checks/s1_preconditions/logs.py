"""Runbook §1.3.3–1.3.5 and §1.4.4: the bot's log files — tagged lines within a recent window, and freshness."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ops_checks.access.config import Target
from ops_checks.core import readings
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed

TAIL_BYTES = 2 * 1024 * 1024
_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:?\d{2})?\s+(.*)$", re.ASCII)


class LogError(Exception):
    """The log directory cannot be read; one-line reason. ``cause``: the problem as one cause (the directory, its
    files or their clock), shared by every item that reads the logs."""

    def __init__(self, reason: str, cause: Cause | None = None) -> None:
        super().__init__(reason)
        self.cause = cause


def _dir_cause(log_dir: Path, detail: str) -> Cause:
    return Cause(
        "logs",
        f"LOG_DIR {log_dir}",
        detail,
        "set LOG_DIR=<the directory the bot writes its *.log files to> in the env file (the host side of the "
        "bot's log volume) and let this user read it",
    )


@dataclass(frozen=True)
class LogLine:
    at: datetime
    text: str
    file: str


def log_files(log_dir: Path) -> list[Path]:
    if not log_dir.is_dir():
        reason = f"log directory {log_dir} does not exist or is not readable"
        raise LogError(reason, _dir_cause(log_dir, reason))
    files = sorted((p for p in log_dir.glob("*.log") if p.is_file()), key=lambda p: p.stat().st_mtime)
    if not files:
        reason = f"no *.log files in {log_dir}"
        raise LogError(reason, _dir_cause(log_dir, reason))
    return files


def parse_line(raw: str, file: str) -> LogLine | None:
    m = _STAMP.match(raw)
    if not m:
        return None
    stamp, zone = m.group(1).replace(" ", "T"), m.group(2)
    if "." in stamp:
        head, frac = stamp.split(".")
        stamp = f"{head}.{frac[:6]}"
    zone = "+00:00" if zone in (None, "Z") else zone
    try:
        at = datetime.fromisoformat(stamp + zone).astimezone(UTC)
    except ValueError:
        return None
    return LogLine(at, m.group(3), file)


def recent_lines(log_dir: Path, since: datetime) -> Iterator[LogLine]:
    """Timestamped lines at or after ``since`` from the tails of every log file, oldest first per file."""
    for path in log_files(log_dir):
        with path.open("rb") as fh:
            size = fh.seek(0, 2)
            fh.seek(max(0, size - TAIL_BYTES))
            chunk = fh.read().decode("utf-8", "replace")
        for raw in chunk.splitlines():
            line = parse_line(raw, path.name)
            if line and line.at >= since:
                yield line


def latest_tagged(t: Target, pattern: re.Pattern[str]) -> tuple[LogLine | None, list[LogLine]]:
    now = datetime.now(UTC)
    since = now - timedelta(seconds=t.thresholds.log_window_s)
    matches = [ln for ln in recent_lines(t.log_dir, since) if pattern.search(ln.text)]
    matches.sort(key=lambda ln: ln.at)
    if matches:  # a line stamped in the future would be "the latest" forever: a clock or time-zone problem
        try:
            readings.age_s(matches[-1].at, now, f"{matches[-1].file}: the latest matching line, stamped")
        except readings.BadReading as exc:
            raise LogError(f"{exc} (a clock or time-zone problem: a log time without a zone is read as UTC)") from None
    return (matches[-1] if matches else None), matches


def _excerpt(lines: list[LogLine], redact: Target) -> Evidence:
    text = "\n".join(f"{ln.at.isoformat()} {ln.file}: {ln.text}" for ln in lines[-20:])
    return Evidence("log lines", redact.redactor.text(text) or "(none in window)")


BUDGET = re.compile(r"\[BUDGET_(?:LOADED|ERROR|MISSING)\]")
HEALTH = re.compile(r"health_status=(\w+)")
RISK = re.compile(r"risk_assessment=(\w+)")
# the runbook's ``entries=N``, or what TRADE_BOT's BudgetIntegration writes (app/logic/budget_integration.py:
# ``[BUDGET_LOADED] total_budget=… total_spend=… campaigns=N correlation_id=…``)
ENTRIES = re.compile(r"(?:entries|campaigns)=([0-9]+)")

#: 1.3.4 and 1.3.5 read the bot's policy inputs from its log, which the real bot does not write there
POLICY_INPUTS_NOT_LOGGED = Cause(
    "runbook_vs_bot",
    "policy inputs in the bot's log",
    "runbook §1.3 reads health_status= and risk_assessment= from the bot's log; TRADE_BOT v1.9.0 logs its policy "
    "inputs only in policy_decision_audit.context_snapshot",
    "the bot must log health_status=… and risk_assessment=… at each policy evaluation, or the runbook must read them "
    "from policy_decision_audit.context_snapshot",
)


LOGS_ITEM = "1.4.4"  # the bot's logs are being written


def _untimed(t: Target) -> CheckResult | None:
    """An absence in logs whose lines carry no time proves nothing: not verified, resting on 1.4.4's cause."""
    return untimestamped(t)


def untimestamped(t: Target, probe_bytes: int = 64 * 1024) -> CheckResult | None:
    """None when the newest log file's tail holds a line with a timestamp the suite reads (or no line at all);
    else *not verified*: its lines carry no time (e.g. the app run under uvicorn directly, not as its Dockerfile
    runs it), so no window of them can be judged — an absence found there proves nothing."""
    try:
        newest = log_files(t.log_dir)[-1]
        with newest.open("rb") as fh:
            start = max(0, fh.seek(0, 2) - probe_bytes)
            fh.seek(start)
            lines = fh.read().decode("utf-8", "replace").splitlines()[1 if start else 0 :]  # a cut first line
        lines = [ln for ln in lines if ln.strip()]
    except (LogError, OSError):
        return None  # unreadable logs are the caller's (logs_unreadable)
    if not lines or any(parse_line(ln, newest.name) for ln in lines):
        return None
    detail = f"the bot's log {newest} has no timestamped line: no time window of it can be judged"
    return not_verified(
        detail,
        cause=Cause(
            "log_format",
            f"LOG_DIR {t.log_dir}",
            detail,
            "run the bot as its Dockerfile does (python main.py: logging.basicConfig with '%(asctime)s | "
            "%(levelname)s | %(name)s | %(message)s'), or point LOG_DIR at logs whose lines start with a timestamp",
        ),
        blocked_by=(LOGS_ITEM,),
    )


def budget_loaded(t: Target) -> CheckResult:
    """1.3.3: the latest budget line in the window is ``[BUDGET_LOADED]`` with parsed entries and no parse errors."""
    try:
        last, lines = latest_tagged(t, BUDGET)
    except LogError as exc:
        return failed("no logs", "[BUDGET_LOADED]", str(exc), cause=exc.cause)
    ev = _excerpt(lines, t)
    window = f"last {t.thresholds.log_window_s} s"
    if last is None:
        untimed = _untimed(t)
        if untimed is not None:
            return untimed
        return failed(
            "no budget line",
            "[BUDGET_LOADED]",
            f"runbook §1.3.3 expects a [BUDGET_LOADED] log line; the bot wrote none in the {window}",
            ev,
            cause=Cause(
                "bot_state",
                "budget integration",
                f"the bot logged no [BUDGET_LOADED] line in the {window}: its budget integration has not loaded",
                "load the budget report the bot's BudgetIntegration reads (TRADE_BOT app/logic/budget_integration.py"
                " logs [BUDGET_LOADED] total_budget=… campaigns=… when it does), then re-run",
            ),
        )
    if "[BUDGET_LOADED]" not in last.text:
        return failed(last.text, "[BUDGET_LOADED]", f"latest budget line is not a load: {last.text[:120]}", ev)
    m = ENTRIES.search(last.text)
    entries = int(m.group(1)) if m else None
    if not entries or "parse_errors" in last.text:
        return failed(last.text, "budget data parsed", f"budget loaded but not parsed: {last.text[:120]}", ev)
    return passed(f"{entries} entries at {last.at.isoformat()}", "budget data parsed", "", ev)


def _status_line(t: Target, pattern: re.Pattern[str], expected: str, label: str) -> CheckResult:
    try:
        last, lines = latest_tagged(t, pattern)
    except LogError as exc:
        return failed("no logs", f"{label}={expected}", str(exc), cause=exc.cause)
    ev = _excerpt(lines, t)
    if last is None:
        untimed = _untimed(t)
        if untimed is not None:
            return untimed
        return failed(
            None,
            f"{label}={expected}",
            f"runbook §1.3 expects '{label}=' log lines; the bot wrote none in the last {t.thresholds.log_window_s} s"
            " (TRADE_BOT v1.9.0 logs its policy inputs only in policy_decision_audit.context_snapshot)",
            ev,
            cause=POLICY_INPUTS_NOT_LOGGED,
        )
    m = pattern.search(last.text)
    value = m.group(1) if m else None
    if value != expected:
        return failed(value, expected, f"latest {label}={value} at {last.at.isoformat()}", ev)
    return passed(value, expected, f"{label}={value} at {last.at.isoformat()}", ev)


def health_green(t: Target) -> CheckResult:
    """1.3.4: the latest ``health_status=`` line says GREEN."""
    return _status_line(t, HEALTH, "GREEN", "health_status")


def risk_healthy(t: Target) -> CheckResult:
    """1.3.5: the latest ``risk_assessment=`` line says HEALTHY."""
    return _status_line(t, RISK, "HEALTHY", "risk_assessment")


def logs_being_written(t: Target) -> CheckResult:
    """1.4.4: the newest log file was written within the freshness limit, and its last line is that recent."""
    fresh = t.thresholds.log_fresh_s
    try:
        newest = log_files(t.log_dir)[-1]
    except LogError as exc:
        return failed("no logs", f"written within {fresh} s", str(exc), cause=exc.cause)
    now = datetime.now(UTC)
    mtime = datetime.fromtimestamp(newest.stat().st_mtime, UTC)
    try:  # a modification time in the future is no proof of writing
        age = readings.age_s(mtime, now, f"{newest.name} modified")
    except readings.BadReading as exc:
        return failed(f"{newest.name} modified {mtime.isoformat()}", f"written within {fresh} s", str(exc))
    listing = "\n".join(
        f"{p.name} {p.stat().st_size} bytes, modified {datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat()}"
        for p in log_files(t.log_dir)
    )
    ev = Evidence("log files", listing)
    observed = f"{newest.name} last written {age:.1f} s ago"
    if age > fresh:
        return failed(observed, f"within {fresh} s", f"logs not being written: {observed}", ev)
    return passed(observed, f"within {fresh} s", observed, ev)
