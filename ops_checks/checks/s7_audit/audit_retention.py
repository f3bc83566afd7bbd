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

from ops_checks.checks.s7_audit.audit_rows import csv_evidence
from ops_checks.checks.s7_audit.audit_settings import AuditSettings
from ops_checks.core.result import CheckResult, failed, passed
from ops_checks.target.audit_tables import AUDIT_TABLES
from ops_checks.target.config import Target
from ops_checks.target.db import Db, DbError, connect
from ops_checks.target.suite_tables import missing, not_installed

RETAINED_TABLES = ("policy_decision_audit", "trading_orders", "circuit_breaker_events", "ai_debates")
_UNKNOWN_TABLE = "unknown table"  # the bot's verify_chain_integrity raises this for tables it was not taught


def _inception(t: Target, db: Db) -> tuple[datetime | None, str]:
    raw = t.value("AUDIT_INCEPTION_DATE")
    if raw:
        try:
            ts = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None, f"AUDIT_INCEPTION_DATE {raw!r} is not an ISO date"
        return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)), "AUDIT_INCEPTION_DATE"
    row = db.one("SELECT inception_at, recorded_by FROM ops_audit_inception WHERE id = 1")
    if row is None:
        return None, "ops_audit_inception holds no inception date"
    return row["inception_at"], f"ops_audit_inception (recorded by {row['recorded_by']})"


def _archivals(db: Db) -> list[dict[str, Any]]:
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


def chain_breaks(db: Db, tables: tuple[str, ...]) -> tuple[list[str], list[str], list[str]]:
    """Each table's row-hash chain through the bot's ``verify_chain_integrity``: (verified, broken, not covered)."""
    ok, broken, uncovered = [], [], []
    for table in tables:
        if db.one("SELECT to_regclass(%s) IS NULL AS absent", (table,))["absent"]:  # type: ignore[index]
            uncovered.append(f"{table} (no such table)")
            continue
        try:
            row = db.one("SELECT public.verify_chain_integrity(%s) AS intact", (table,))
        except DbError as exc:
            text = str(exc)
            if _UNKNOWN_TABLE in text.lower():
                uncovered.append(f"{table} (the bot's verify_chain_integrity does not know it)")
            elif "function" in text and "does not exist" in text:
                uncovered.append(f"{table} (the database has no verify_chain_integrity(text))")
            elif "permission denied" in text or "statement timeout" in text:
                uncovered.append(f"{table} ({text})")
            else:
                broken.append(f"{table}: {text}")
            continue
        (ok if row and row["intact"] is True else broken).append(table)
    return ok, broken, uncovered


def rows_retained(t: Target) -> CheckResult:
    """7.6.1: no audit row younger than the retention period is gone; every hash chain the bot can verify holds."""
    s = AuditSettings.of_target(t)
    expected = "oldest decision = recorded inception, or an approved archival record; row-hash chains intact"
    try:
        with connect(t.db, t.redactor) as db:
            problem = missing(db, "ops_audit_inception", "ops_audit_retention")
            if problem:
                return not_installed(problem, expected, db.log.evidence())
            inception, source = _inception(t, db)
            oldest = db.one("SELECT MIN(timestamp_utc) AS oldest, now() AS now FROM policy_decision_audit")
            archivals = _archivals(db)
            intact, broken, uncovered = chain_breaks(db, tuple(tb.name for tb in AUDIT_TABLES))
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
    observed = (
        f"oldest decision {first}, inception {inception} ({source}); chains intact: {', '.join(intact) or 'none'}"
        + (f"; not covered: {', '.join(uncovered)}" if uncovered else "")
    )
    if broken:
        problems.append(f"row-hash chain broken (rows deleted or altered): {'; '.join(broken)}")
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


IMMUTABILITY = """
SELECT c.relname AS audit_table,
       bool_or(p.proname = 'prevent_update' AND t.tgenabled <> 'D') AS update_blocked,
       bool_or(p.proname = 'prevent_delete' AND t.tgenabled <> 'D') AS delete_blocked,
       string_agg(t.tgname || '=' || t.tgenabled::text, ' ' ORDER BY t.tgname)
         FILTER (WHERE p.proname IN ('prevent_update', 'prevent_delete')) AS triggers,
       has_table_privilege(%(r)s, c.oid, 'UPDATE') AS can_update,
       has_table_privilege(%(r)s, c.oid, 'DELETE') AS can_delete,
       has_table_privilege(%(r)s, c.oid, 'TRUNCATE') AS can_truncate
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
LEFT JOIN pg_proc p ON p.oid = t.tgfoid
WHERE c.relname = ANY(%(tables)s) AND c.relkind IN ('r', 'p')
GROUP BY c.oid, c.relname
ORDER BY c.relname
"""


def bot_cannot_delete(t: Target) -> CheckResult:
    """7.6.2: every audit table is immutable: its prevent_update/prevent_delete triggers are present and enabled,
    and the bot's role (``BOT_DB_USER``, else the connecting role) holds no UPDATE, DELETE or TRUNCATE on it."""
    expected = "prevent_update/prevent_delete enabled; no UPDATE, DELETE or TRUNCATE for the bot's role"
    names = [tb.name for tb in AUDIT_TABLES]
    try:
        with connect(t.db, t.redactor) as db:
            role = t.value("BOT_DB_USER") or db.one("SELECT current_user AS u")["u"]  # type: ignore[index]
            rows = db.rows(IMMUTABILITY, {"r": role, "tables": names})  # type: ignore[arg-type]
            ev = [db.log.evidence(), csv_evidence("immutability of the audit tables (CSV)", rows, t.redactor)]
    except DbError as exc:
        return failed("query failed", expected, str(exc))
    if not rows:
        return failed("no audit tables", expected, f"none of the audit tables exists: {', '.join(names)}", *ev)
    bad = []
    for r in rows:
        what = [
            w
            for w, flag in (("UPDATE", r["can_update"]), ("DELETE", r["can_delete"]), ("TRUNCATE", r["can_truncate"]))
            if flag
        ]
        if what:
            bad.append(f"{r['audit_table']}: role {role} has {'/'.join(what)}")
        off = [
            w
            for w, flag in (("prevent_update", r["update_blocked"]), ("prevent_delete", r["delete_blocked"]))
            if not flag
        ]
        if off:
            bad.append(f"{r['audit_table']}: no enabled {'/'.join(off)} trigger")
    observed = f"{len(rows)} audit table(s), role {role}: " + ("; ".join(bad) if bad else "all immutable")
    if bad:
        return failed(observed, expected, f"audit rows can be changed or deleted: {'; '.join(bad)}", *ev)
    return passed(observed, expected, "", *ev)
