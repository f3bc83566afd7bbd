"""Runbook §2.4: secret rotation age against the runbook's periods, from the ``secret_rotations`` record.

The record holds the secret's name, when it was rotated and by whom — never the value. Overdue (older than
the period) is a warning (2.4.N); more than twice the period, or no record at all, blocks (2.4.N.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from ops_checks.access.config import DbParams, Target
from ops_checks.access.db import DbError, connect
from ops_checks.catalogue.rotation_periods import ROTATION_ROWS
from ops_checks.core import readings
from ops_checks.core.redaction import Redactor
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed

SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_LAST = (
    "SELECT rotated_at, rotated_by, EXTRACT(EPOCH FROM now() - rotated_at) / 86400 AS age_days "
    "FROM secret_rotations WHERE secret_name = %s ORDER BY rotated_at DESC LIMIT 1"
)


@dataclass(frozen=True)
class Rotation:
    name: str
    period_days: int
    rotated_at: datetime | None
    rotated_by: str | None
    age_days: Decimal | None
    evidence: Evidence


class RotationError(Exception):
    """The rotation record cannot be read or written; ``str()`` is a one-line reason."""


def period_of(name: str) -> int:
    return ROTATION_ROWS[name][1]


def last_rotation(t: Target, name: str) -> Rotation:
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one(_LAST, (name,))
            ev = db.log.evidence()
    except DbError as exc:
        raise RotationError(f"secret_rotations unreadable: {exc}") from exc
    if row is None:
        return Rotation(name, period_of(name), None, None, None, ev)
    try:  # a rotated_at of 'infinity' gives an infinite age: no record to judge by
        age = readings.amount(row["age_days"], f"{name} rotation age (days)", signed=True).quantize(Decimal("0.1"))
    except readings.BadReading as exc:
        raise RotationError(f"secret_rotations: {exc}") from None
    return Rotation(name, period_of(name), row["rotated_at"], row["rotated_by"], age, ev)


def _describe(r: Rotation) -> str:
    return f"{r.name} last rotated {r.rotated_at:%Y-%m-%d} by {r.rotated_by} ({r.age_days} days ago)"


def far_overdue(t: Target, name: str) -> CheckResult | None:
    """Precondition of the warning 2.4.N: the blocker 2.4.N.1 owns 'no record', 'more than twice overdue' and an
    unreadable record (the warning then rests on it)."""
    owner = f"{ROTATION_ROWS[name][0]}.1"
    try:
        r = last_rotation(t, name)
    except RotationError as exc:
        return not_verified(str(exc), blocked_by=(owner,))
    if r.age_days is None:
        return not_verified(f"no rotation of {name} is recorded", blocked_by=(owner,))
    if r.age_days > 2 * r.period_days or r.age_days < 0:
        return not_verified(f"{name}'s rotation is more than twice overdue or implausible", blocked_by=(owner,))
    return None


def within_period(t: Target, name: str) -> CheckResult:
    """2.4.N (warning): rotated within the runbook's period (90 or 180 days)."""
    try:
        r = last_rotation(t, name)
    except RotationError as exc:
        return failed("unreadable", "a rotation record", str(exc))
    expected = f"rotated within {r.period_days} days"
    if r.age_days is None:
        return failed("no record", expected, f"no rotation of {name} recorded", r.evidence)
    if r.age_days < 0:
        return failed(f"{r.age_days} days", expected, f"{name} rotation is recorded in the future", r.evidence)
    if r.age_days > r.period_days:
        cause = _rotation_cause(
            name, f"{_describe(r)}: overdue by {r.age_days - r.period_days} days (period {r.period_days})"
        )
        return failed(f"{r.age_days} days", expected, cause.detail, r.evidence, cause=cause)
    return passed(
        f"{r.age_days} days", expected, f"{_describe(r)}; next due in {r.period_days - r.age_days} days", r.evidence
    )


def not_far_overdue(t: Target, name: str) -> CheckResult:
    """2.4.N.1 (blocker): a rotation is recorded, not in the future, and not more than twice the period old."""
    try:
        r = last_rotation(t, name)
    except RotationError as exc:
        return failed("unreadable", "a rotation record", str(exc))
    limit = 2 * r.period_days
    expected = f"rotated within {limit} days (twice the {r.period_days}-day period)"
    if r.age_days is None:
        cause = _rotation_cause(name, f"no rotation of {name} is recorded")
        return failed("no record", expected, cause.detail, r.evidence, cause=cause)
    if r.age_days < 0:
        cause = _rotation_cause(name, f"{name} rotation is recorded in the future")
        return failed(f"{r.age_days} days", expected, cause.detail, r.evidence, cause=cause)
    if r.age_days > limit:
        cause = _rotation_cause(name, f"{_describe(r)}: more than twice the {r.period_days}-day period")
        return failed(f"{r.age_days} days", expected, cause.detail, r.evidence, cause=cause)
    return passed(f"{r.age_days} days", expected, _describe(r), r.evidence)


def _rotation_cause(name: str, detail: str) -> Cause:
    return Cause(
        "rotation",
        name,
        detail,
        f"rotate {name} (runbook §2.4), then record it: opscheck secrets rotated {name} --by NAME",
    )


def record_rotation(db: DbParams, redactor: Redactor, name: str, by: str, at: datetime | None = None) -> datetime:
    """Append one rotation record (name, time, operator — never the value); returns the recorded time."""
    if not SECRET_NAME.match(name):
        raise RotationError(f"{name!r} is not a variable name (A-Z, 0-9, _)")
    if not by.strip():
        raise RotationError("--by needs the operator's name")
    if at is not None and at.tzinfo is None:
        raise RotationError("--at needs a time zone (e.g. 2025-01-31T09:00:00+00:00)")
    when = (at or datetime.now(UTC)).astimezone(UTC)
    if when > datetime.now(UTC):
        raise RotationError("a rotation cannot be recorded in the future")
    try:
        with connect(db, redactor, read_only=False) as conn:
            row = conn.one(
                "INSERT INTO secret_rotations (secret_name, rotated_at, rotated_by) VALUES (%s, %s, %s) "
                "RETURNING rotated_at",
                (name, when, by.strip()),
            )
    except DbError as exc:
        raise RotationError(f"could not record the rotation: {exc}") from exc
    assert row is not None
    return row["rotated_at"]
