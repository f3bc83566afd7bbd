"""Runbook §7.6 Audit Retention Policy: audit rows kept for their 7 years, deletion only with two approvals.

7.6.1: the oldest policy decision still in the database is the recorded inception of the audit trail (the bot
decides continuously from its first day), unless an archival record with two distinct approvers moved older rows
to cold storage; no archival record may cover rows younger than the retention period.
The inception comes from ``ops_audit_inception`` (or ``AUDIT_INCEPTION_DATE`` in the environment); archivals from
``ops_audit_retention``.
7.6.2: the bot's database role cannot DELETE or TRUNCATE any §7.1 audit table (grants, ownership or superuser).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ops_checks.audit_export import AUDIT_TABLES
from ops_checks.audit_rows import csv_evidence
from ops_checks.audit_settings import AuditSettings
from ops_checks.config import Target
from ops_checks.db import Db, DbError, connect
from ops_checks.result import CheckResult, failed, passed

RETAINED_TABLES = ("policy_decision_audit", "trading_orders", "circuit_breaker_events", "ai_debate_ledger")


def _inception(t: Target, db: Db) -> tuple[datetime | None, str]:
    raw = t.value("AUDIT_INCEPTION_DATE")
    if raw:
        try:
            ts = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None, f"AUDIT_INCEPTION_DATE {raw!r} is not an ISO date"
        return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)), "AUDIT_INCEPTION_DATE"
    if db.one("SELECT to_regclass('ops_audit_inception') AS t")["t"] is None:  # type: ignore[index]
        return None, "no inception recorded (neither ops_audit_inception nor AUDIT_INCEPTION_DATE)"
    row = db.one("SELECT inception_at, recorded_by FROM ops_audit_inception WHERE id = 1")
    if row is None:
        return None, "ops_audit_inception holds no inception date"
    return row["inception_at"], f"ops_audit_inception (recorded by {row['recorded_by']})"


def _archivals(db: Db) -> list[dict[str, Any]]:
    if db.one("SELECT to_regclass('ops_audit_retention') AS t")["t"] is None:  # type: ignore[index]
        return []
    return db.rows(
        "SELECT table_name, archived_before, row_count, archive_location, archived_by, approved_by, second_approver,"
        " archived_at FROM ops_audit_retention ORDER BY archived_at"
    )


def archival_problems(rows: list[dict[str, Any]], now: datetime, years: int) -> list[str]:
    """An archival needs two distinct approvers and may only cover rows older than the retention period."""
    limit = now - timedelta(days=365 * years + years // 4)
    problems = []
    for r in rows:
        approvers = {(r.get("approved_by") or "").strip().lower(), (r.get("second_approver") or "").strip().lower()}
        approvers.discard("")
        if len(approvers) < 2:
            problems.append(f"archival of {r['table_name']} on {r['archived_at']} lacks two distinct approvals")
        if r["archived_before"] > limit:
            problems.append(
                f"archival of {r['table_name']} removed rows up to {r['archived_before']}, inside the {years}-year "
                "retention period"
            )
    return problems


def rows_retained(t: Target) -> CheckResult:
    """7.6.1: no audit row younger than the retention period is gone."""
    s = AuditSettings.from_env(t.env)
    expected = "oldest decision = recorded inception, or an approved archival record"
    try:
        with connect(t.db, t.redactor) as db:
            inception, source = _inception(t, db)
            oldest = db.one("SELECT MIN(timestamp_utc) AS oldest, now() AS now FROM policy_decision_audit")
            archivals = _archivals(db)
            ev = [db.log.evidence(), csv_evidence("archival records (CSV)", archivals, t.redactor)]
    except DbError as exc:
        return failed("query failed", expected, str(exc))
    if inception is None:
        return failed("no inception", expected, f"cannot prove retention: {source}", *ev)
    assert oldest is not None
    now, first = oldest["now"], oldest["oldest"]
    problems = archival_problems([a for a in archivals if a["table_name"] in RETAINED_TABLES], now, s.retention_years)
    approved = [
        a["archived_before"]
        for a in archivals
        if a["table_name"] == "policy_decision_audit" and not archival_problems([a], now, s.retention_years)
    ]
    allowed_start = max([inception, *approved])
    slack = timedelta(seconds=s.max_gap_s)
    observed = f"oldest decision {first}, inception {inception} ({source})"
    if first is None:
        problems.insert(0, f"policy_decision_audit is empty although the audit trail began {inception}")
    elif first > allowed_start + slack:
        problems.insert(
            0,
            f"oldest policy decision {first} is {first - allowed_start} after the audit trail's start "
            f"{allowed_start}: rows deleted without an approved archival record",
        )
    if problems:
        return failed(observed, expected, "; ".join(problems), *ev)
    return passed(observed, expected, "", *ev)


def bot_cannot_delete(t: Target) -> CheckResult:
    """7.6.2: the bot's role (``BOT_DB_USER``, else the connecting role) holds no DELETE/TRUNCATE on audit tables."""
    expected = "no DELETE or TRUNCATE on any audit table"
    try:
        with connect(t.db, t.redactor) as db:
            role = t.value("BOT_DB_USER") or db.one("SELECT current_user AS u")["u"]  # type: ignore[index]
            rows = []
            for table in AUDIT_TABLES:
                rows += db.rows(
                    "SELECT %(t)s AS audit_table, has_table_privilege(%(r)s, %(t)s, 'DELETE') AS can_delete,"
                    " has_table_privilege(%(r)s, %(t)s, 'TRUNCATE') AS can_truncate"
                    " WHERE to_regclass(%(t)s) IS NOT NULL",
                    {"t": table.name, "r": role},  # type: ignore[arg-type]
                )
            ev = [db.log.evidence(), csv_evidence("privileges of the bot's role (CSV)", rows, t.redactor)]
    except DbError as exc:
        return failed("query failed", expected, str(exc))
    bad = [
        f"{r['audit_table']} ({'DELETE' if r['can_delete'] else 'TRUNCATE'})"
        for r in rows
        if r["can_delete"] or r["can_truncate"]
    ]
    observed = f"role {role}: " + (", ".join(bad) if bad else "no DELETE/TRUNCATE")
    if bad:
        return failed(observed, expected, f"the bot's role {role} can delete audit rows: {', '.join(bad)}", *ev)
    return passed(observed, expected, "", *ev)
