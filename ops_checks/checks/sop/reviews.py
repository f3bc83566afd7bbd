"""Incident SOP prevention checklist, weekly reviews.

sop.weekly.2 "Update runbooks": each runbook in ``--runbook`` DIR was updated (its own "Last Updated" date) or
reviewed (a ``runbook_review`` record for that file) within the last 7 days; the file's revision and SHA-256 are
the evidence of what was reviewed.
sop.weekly.3 "Review incidents": every incident older than 48 h (the SOP's "Review Meeting (within 48 hours)") has
a root cause documented (``opscheck incident document``) and an ``incident_review`` record.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.catalogue.runbook_text import ENV as RUNBOOK_ENV
from ops_checks.catalogue.runbook_text import FILES
from ops_checks.checks.bot_sources import db_unreadable
from ops_checks.checks.sop.records import age_days
from ops_checks.core import readings
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed

REVIEW_DAYS = 7
REVIEW_MEETING_H = 48

_UPDATED = re.compile(r"Last Updated:?\**:?\s*\**\s*(\d{4}-\d{2}-\d{2})", re.IGNORECASE)
_REVISION = re.compile(r"\b(?:Revision|Version):?\**:?\s*\**\s*v?(\d+(?:\.\d+)*)", re.IGNORECASE)

_REVIEWS = """
SELECT subject, max(performed_at) AS reviewed_at FROM ops_prevention_records
WHERE activity = 'runbook_review' AND outcome = 'passed' GROUP BY subject"""

_INCIDENTS = """
SELECT i.incident_id, i.opened_at, i.root_cause, r.performed_at AS reviewed_at, r.performed_by AS reviewed_by
FROM ops_incidents i
LEFT JOIN LATERAL (
    SELECT performed_at, performed_by FROM ops_prevention_records r
    WHERE r.activity = 'incident_review' AND r.subject = i.incident_id AND r.outcome = 'passed'
    ORDER BY r.performed_at LIMIT 1
) r ON true
WHERE i.opened_at < now() - %s * interval '1 hour'
ORDER BY i.opened_at"""


@dataclass(frozen=True)
class RunbookFile:
    name: str
    last_updated: date | None
    revision: str | None
    sha256: str


def read_runbook(path: Path) -> RunbookFile:
    """The runbook's own "Last Updated" date and revision (None when it states none); raises OSError."""
    data = path.read_bytes()
    text = data.decode("utf-8", errors="replace")
    updated = _UPDATED.search(text)
    revision = _REVISION.search(text)
    try:
        last = date.fromisoformat(updated.group(1)) if updated else None
    except ValueError:
        last = None
    return RunbookFile(path.name, last, revision.group(1) if revision else None, hashlib.sha256(data).hexdigest())


def runbook_problem(rb: RunbookFile, reviewed_at: datetime | None, now: datetime) -> str | None:
    """None when the runbook was updated or reviewed within REVIEW_DAYS."""
    if rb.last_updated is not None and 0 <= (now.date() - rb.last_updated).days <= REVIEW_DAYS:
        return None
    try:
        if reviewed_at is not None and age_days(reviewed_at, now, f"{rb.name} reviewed_at") <= REVIEW_DAYS:
            return None
    except readings.BadReading as exc:
        return f"{rb.name}: {exc}"
    updated = f"last updated {rb.last_updated}" if rb.last_updated else "no Last Updated date"
    review = f"last reviewed {reviewed_at:%Y-%m-%d}" if reviewed_at else "never reviewed"
    return f"{rb.name}: {updated}, {review}"


def _runbook_line(rb: RunbookFile, reviewed_at: datetime | None) -> str:
    review = f"reviewed {reviewed_at:%Y-%m-%d %H:%M} UTC" if reviewed_at else "never reviewed"
    return (
        f"{rb.name}: revision {rb.revision or '?'}, Last Updated {rb.last_updated or '?'}, sha256 {rb.sha256}, {review}"
    )


def _incident_line(r: dict[str, Any]) -> str:
    cause = "documented" if (r["root_cause"] or "").strip() else "MISSING"
    review = f"{r['reviewed_at']:%Y-%m-%d %H:%M} UTC by {r['reviewed_by']}" if r["reviewed_at"] else "MISSING"
    return f"{r['incident_id']} opened {r['opened_at']:%Y-%m-%d %H:%M} UTC; root cause {cause}; review {review}"


def _record_sql(activity: str, subject: str) -> str:
    return (
        "INSERT INTO opscheck.ops_prevention_records (activity, subject, performed_by, outcome, details) VALUES "
        f"('{activity}', '{subject}', '<you>', 'passed', '{{}}');"
    )


def runbooks_reviewed(t: Target, runbook_dir: Path | None) -> CheckResult:
    """sop.weekly.2: every runbook updated or reviewed within the last 7 days."""
    expected = f"each runbook updated or reviewed within {REVIEW_DAYS} days"
    if runbook_dir is None or not runbook_dir.is_dir():
        detail = "the runbook directory is not found: the runbooks' revisions cannot be read"
        return not_verified(
            detail,
            expected=expected,
            cause=Cause(
                "setting",
                "runbook directory",
                detail,
                f"opscheck preflight --runbook DIR, or {RUNBOOK_ENV}=<the directory holding the runbooks> in the "
                "environment",
            ),
        )
    try:
        files = [read_runbook(runbook_dir / name) for name in sorted(FILES.values())]
    except OSError as exc:
        detail = f"runbook unreadable: {exc.strerror or type(exc).__name__}"
        return not_verified(
            detail,
            expected=expected,
            cause=Cause(
                "setting",
                "runbook directory",
                detail,
                f"make the runbooks ({', '.join(sorted(FILES.values()))}) readable in {runbook_dir}",
            ),
        )
    try:
        with connect(t.db, t.redactor) as db:
            reviews = {r["subject"]: r["reviewed_at"] for r in db.rows(_REVIEWS)}
            ev = db.log.evidence()
    except DbError as exc:
        return db_unreadable(t, exc, "opscheck.ops_prevention_records", expected)
    now = datetime.now(UTC)
    lines = [_runbook_line(rb, reviews.get(rb.name)) for rb in files]
    evidence = Evidence("runbooks", f"{runbook_dir}\n" + "\n".join(lines))
    problems = [p for rb in files if (p := runbook_problem(rb, reviews.get(rb.name), now))]
    if problems:
        detail = f"runbooks not reviewed this week: {'; '.join(problems)}"
        return failed(
            "; ".join(problems),
            expected,
            detail,
            ev,
            evidence,
            cause=Cause(
                "review_overdue",
                "runbook review",
                detail,
                "review the runbooks (SOP prevention, weekly) and record each review: "
                + _record_sql("runbook_review", "<runbook file name>"),
            ),
        )
    observed = f"{len(files)} runbook(s) updated or reviewed within {REVIEW_DAYS} days"
    return passed(observed, expected, observed, ev, evidence)


def incident_problems(rows: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(problems, notes) for incidents past their review meeting: no root cause or no review is a problem; a
    review later than 48 h after opening is a note (it was held, late)."""
    problems, notes = [], []
    for r in rows:
        missing = []
        if not (r.get("root_cause") or "").strip():
            missing.append("no root cause")
        if r.get("reviewed_at") is None:
            missing.append("no review recorded")
        elif r["reviewed_at"] < r["opened_at"]:  # a negative delay is no review of this incident
            missing.append(f"review recorded at {r['reviewed_at']:%Y-%m-%d %H:%M}, before the incident opened")
        elif r["reviewed_at"] - r["opened_at"] > timedelta(hours=REVIEW_MEETING_H):
            late_h = (r["reviewed_at"] - r["opened_at"]).total_seconds() / 3600
            notes.append(f"{r['incident_id']} reviewed {late_h:.0f} h after opening")
        if missing:
            problems.append(f"{r['incident_id']}: {', '.join(missing)}")
    return problems, notes


def incidents_reviewed(t: Target) -> CheckResult:
    """sop.weekly.3: every incident older than 48 h has a root cause and a recorded review."""
    expected = f"every incident older than {REVIEW_MEETING_H} h: root cause + review"
    try:
        with connect(t.db, t.redactor) as db:
            rows = db.rows(_INCIDENTS, (REVIEW_MEETING_H,))
            ev = db.log.evidence()
    except DbError as exc:
        return db_unreadable(t, exc, "opscheck.ops_incidents", expected)
    problems, notes = incident_problems(rows)
    listing = "\n".join(_incident_line(r) for r in rows)
    evidence = Evidence("incidents past their review meeting", t.redactor.text(listing or "none"))
    if problems:
        detail = f"incidents not reviewed: {'; '.join(problems)}"
        return failed(
            "; ".join(problems),
            expected,
            detail,
            ev,
            evidence,
            cause=Cause(
                "review_overdue",
                "incident review",
                detail,
                "hold the review meeting, document the root cause (opscheck incident document) and record the review: "
                + _record_sql("incident_review", "<incident id>"),
            ),
        )
    observed = f"{len(rows)} incident(s) older than {REVIEW_MEETING_H} h, all reviewed"
    if notes:
        observed += f" ({'; '.join(notes)})"
    return passed(observed, expected, observed, ev, evidence)
