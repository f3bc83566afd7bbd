"""Recorded prevention-checklist work (``ops_prevention_records``): runbook and incident reviews, restore and
disaster-recovery drills, each with who, when and the outcome. Reads are read-only; ``record`` writes one row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from ops_checks.access.config import Target
from ops_checks.access.db import Db, DbError, connect
from ops_checks.access.suite_tables import not_installed, not_installed_reason
from ops_checks.core import readings
from ops_checks.core.result import CheckResult, Evidence, failed, passed

TABLE = "ops_prevention_records"

_LATEST = """
SELECT activity, subject, performed_at, performed_by, outcome, details FROM ops_prevention_records
WHERE activity = %s ORDER BY performed_at DESC, id DESC LIMIT 1"""


def age_days(at: object, now: datetime | None = None, what: str = "performed_at") -> float:
    """Days since ``at``; ``readings.BadReading`` for a time in the future (beyond clock skew) or no aware time."""
    return readings.age_s(at, now or datetime.now(UTC), what) / 86400


def latest(db: Db, activity: str) -> dict[str, Any] | None:
    return db.one(_LATEST, (activity,))


def judge_latest(row: dict[str, Any] | None, what: str, max_days: int, now: datetime | None = None) -> str | None:
    """The problem with the latest recorded ``what`` (None: it passed within ``max_days``)."""
    if row is None:
        return f"no {what} recorded"
    try:
        days = age_days(row["performed_at"], now, f"the last {what}'s performed_at")
    except readings.BadReading as exc:
        return str(exc)
    when = f"{row['performed_at']:%Y-%m-%d %H:%M} UTC by {row['performed_by']}"
    if row["outcome"] != "passed":
        return f"the last {what} ({when}) failed"
    if days > max_days:
        return f"the last {what} was {days:.0f} days ago ({when}); due every {max_days} days"
    return None


def recent(t: Target, activity: str, what: str, max_days: int) -> CheckResult:
    """The latest ``activity`` record passed and is at most ``max_days`` old (read-only)."""
    expected = f"{what} passed within {max_days} days"
    try:
        with connect(t.db, t.redactor) as db:
            row = latest(db, activity)
            ev = db.log.evidence()
    except DbError as exc:
        why = not_installed_reason(exc)
        if why:
            return not_installed(why, expected)
        return failed("unreadable", expected, f"{TABLE} unreadable: {exc}")
    problem = judge_latest(row, what, max_days)
    if problem:
        return failed(problem, expected, problem, ev)
    assert row is not None
    observed = (
        f"last {what} {row['performed_at']:%Y-%m-%d %H:%M} UTC by {row['performed_by']} "
        f"({age_days(row['performed_at']):.1f} days ago)"
    )
    return passed(observed, expected, observed, ev, Evidence("record", t.redactor.text(str(row["details"]))))


def record(t: Target, activity: str, subject: str, by: str, ok: bool, details: dict[str, Any]) -> None:
    """Append one record; raises DbError."""
    with connect(t.db, t.redactor, read_only=False) as db:
        db.one(
            "INSERT INTO ops_prevention_records (activity, subject, performed_by, outcome, details)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (activity, subject, by, "passed" if ok else "failed", Jsonb(details)),
        )
