"""Preflight items that write files (into a temporary directory the step provides, removed afterwards):
7.2.1 the full audit export, 7.2.2 its verification, 7.4.1 the monthly compliance report."""

from __future__ import annotations

import getpass
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ops_checks.access.config import Target
from ops_checks.access.db import DbError
from ops_checks.checks import givens
from ops_checks.core.result import CheckResult, Evidence, failed, not_verified, passed
from ops_checks.procedures import audit_export, audit_verify, compliance
from ops_checks.procedures.audit_export import CHECKSUMS, MANIFEST, ExportError, iso

SHA256SUM_TIMEOUT_S = 60


def operator_name(t: Target) -> str:
    try:
        return t.value("OPSCHECK_OPERATOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def export_range(hours: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The preflight's export window: the last ``hours`` (``OPSCHECK_AUDIT_EXPORT_HOURS``) up to the last whole
    minute, UTC."""
    end = (now or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    return end - timedelta(hours=hours), end


def _export(t: Target, workdir: Path) -> audit_export.ExportResult:
    start, end = export_range(t.thresholds.audit_export_hours)
    return audit_export.export(t.db, t.redactor, start, end, workdir / "audit_export", operator_name(t))


def _files_evidence(directory: Path) -> list[Evidence]:
    return [Evidence(name, (directory / name).read_text(encoding="utf-8")) for name in (MANIFEST, CHECKSUMS)]


EXPORT_ITEM = "7.2.1"


def export_tables(t: Target, workdir: Path) -> CheckResult:
    """7.2.1: every audit table of the bot (its hash-chained tables, as the database declares them) of the last day
    streamed to CSV (LF), hashed, and renamed into place complete."""
    expected = "a CSV file per hash-chained audit table, a manifest and checksums"
    try:
        r = _export(t, workdir)
    except ExportError as exc:
        cause = givens.table_cause(t, exc.table, exc.error) if exc.table else None
        return failed("export failed", expected, str(exc), cause=cause)
    produced = sorted(p.name for p in r.directory.iterdir())
    wanted = sorted([*(f.name for f in r.files), MANIFEST, CHECKSUMS])
    ev = _files_evidence(r.directory)
    if produced != wanted:
        missing, extra = sorted(set(wanted) - set(produced)), sorted(set(produced) - set(wanted))
        what = "; ".join(
            part
            for part in (
                f"missing {', '.join(missing)}" if missing else "",
                f"unexpected {', '.join(extra)}" if extra else "",
            )
            if part
        )
        return failed(", ".join(produced), ", ".join(wanted), f"export directory incomplete: {what}", *ev)
    crlf = [p.name for p in r.directory.glob("*.csv") if p.read_bytes()[:4096].split(b"\n", 1)[0].endswith(b"\r")]
    if crlf:
        return failed(f"CRLF in {crlf}", "LF line endings", f"CRLF line endings in {', '.join(crlf)}", *ev)
    observed = f"{r.summary()} for {iso(r.start)} to {iso(r.end)}"
    return passed(observed, expected, observed, *ev)


def prepare_export(t: Target, workdir: Path) -> tuple[Path | None, CheckResult | None]:
    """An export for 7.2.2 to verify; (None, not verified resting on 7.2.1) when it cannot be made: item 7.2.1
    owns that failure and says why."""
    try:
        return _export(t, workdir).directory, None
    except ExportError:
        return None, not_verified(
            f"no export to verify: the audit export failed (item {EXPORT_ITEM})", blocked_by=(EXPORT_ITEM,)
        )


def export_problem(export: tuple[Path | None, CheckResult | None]) -> CheckResult | None:
    """The Given of 7.2.2: why ``prepare_export`` made no export (the item then rests on 7.2.1), or None."""
    return export[1]


def sha256sum_check(directory: Path) -> tuple[bool | None, str]:
    """Run the real ``sha256sum -c --strict`` in the directory; (None, why) when the tool is not installed."""
    tool = shutil.which("sha256sum")
    if tool is None:
        return None, "sha256sum not installed: independent check skipped"
    try:
        proc = subprocess.run(
            [tool, "-c", "--strict", CHECKSUMS],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=SHA256SUM_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"sha256sum -c timed out after {SHA256SUM_TIMEOUT_S} s"
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def verify_export(t: Target, directory: Path) -> CheckResult:
    """7.2.2: the manifest is complete, every file matches CHECKSUMS.sha256 (ours and ``sha256sum -c``), the
    CSV record counts match the manifest, and the manifest's counts match the database for the same range."""
    expected = "checksums, manifest and database counts agree"
    report = audit_verify.verify(directory, db_params=t.db, redactor=t.redactor)
    ok, tool_output = sha256sum_check(directory)
    ev = [Evidence("verification", t.redactor.text(report.render())), Evidence("sha256sum -c", tool_output)]
    ev += _files_evidence(directory)
    if not report.ok:
        return failed(f"{len(report.problems)} problem(s)", expected, report.reason(), *ev)
    if ok is False:
        last = tool_output.splitlines()[-1] if tool_output.strip() else "no output"
        return failed("sha256sum -c failed", expected, f"sha256sum -c: {last}", *ev)
    return passed("all files verified", expected, f"verified {directory.name}; sha256sum -c: {ok is not None}", *ev)


def compliance_report(t: Target, workdir: Path) -> CheckResult:
    """7.4.1: the current month's compliance report is produced complete (4 sections, chart, CSVs)."""
    month = datetime.now(UTC).date().replace(day=1)
    expected = "report with 4 sections, daily P&L chart and CSVs; P&L complete"
    try:
        r = compliance.generate(t.db, t.redactor, month, workdir / f"compliance_{month:%Y-%m}", operator_name(t))
    except (compliance.ComplianceError, DbError) as exc:
        cause = givens.cause_in(str(exc), t.db.user or "the bot's role")  # a grant or table missing: §7.3's cause
        return failed("not generated", expected, str(exc), cause=cause)
    wanted = {"report.md", "report.html", "daily_pnl.svg", "executive_summary.csv", "kill_switch_events.csv"}
    wanted |= {"policy_overrides.csv", "daily_pnl.csv"}
    ev = [
        Evidence("report.md", (r.directory / "report.md").read_text(encoding="utf-8")),
        Evidence(
            "executive_summary.csv", (r.directory / "executive_summary.csv").read_text(encoding="utf-8"), "text/csv"
        ),
        Evidence("daily_pnl.csv", (r.directory / "daily_pnl.csv").read_text(encoding="utf-8"), "text/csv"),
    ]
    missing = sorted(wanted - set(r.files))
    html_text = (r.directory / "report.html").read_text(encoding="utf-8") if "report.html" in r.files else ""
    if missing or "<svg" not in html_text:
        return failed(r.files, sorted(wanted), f"report incomplete: missing {missing or 'the inline chart'}", *ev)
    total = r.executive.get("total_decisions", 0)
    observed = (
        f"{month:%Y-%m}: {total} decisions, {len(r.daily_pnl)} trading day(s), {len(r.kill_switch_events)} events"
    )
    if r.problems:
        return failed(observed, expected, f"compliance report {month:%Y-%m}: {'; '.join(r.problems)}", *ev)
    return passed(observed, expected, observed, *ev)
