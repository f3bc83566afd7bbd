"""Runbook §7.6 Audit Retention Policy: audit rows kept for their 7 years, deletion only with two approvals.

7.6.1: the oldest policy decision still in the database is the recorded inception of the audit trail (the bot
decides continuously from its first day), unless an archival record with two distinct approvers moved older rows
to cold storage; no archival record may cover rows younger than the retention period.
The inception comes from ``ops_audit_inception`` (or ``AUDIT_INCEPTION_DATE`` in the environment); archivals from
``ops_audit_retention``.
7.6.2: the bot's database role cannot DELETE or TRUNCATE any audit table (grants, ownership or superuser).
The audit tables are the bot's hash-chained tables as the database declares them (``ops_checks.access.audit_tables``).

The row-hash chains are walked with the bot's own ``verify_chain_integrity(text)``, over the tables whose rows the
schema declares append-only (a table whose rows the bot may update cannot keep a chain). Only a verified mismatch is
"broken": the function returns false, or raises the bot's own mismatch error (``[AUD-009]``). A table the function
was not written for (``Unknown table``) is listed as not covered. Any other error of the function is the bot's
defect (its ``ai_debates`` branch reads columns migration 007 dropped): that table *cannot be checked*, 7.6.1 is not
verified with the bot's error as its cause, and never reads "deleted or altered".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ops_checks.access import audit_tables
from ops_checks.access.config import Target
from ops_checks.access.db import Db, DbError, connect
from ops_checks.access.suite_tables import missing, not_installed
from ops_checks.checks import givens
from ops_checks.checks.s7_audit.audit_rows import csv_evidence
from ops_checks.core.result import Cause, CheckResult, Status, failed, passed

RETAINED_TABLES = ("policy_decision_audit", "trading_orders", "circuit_breaker_events", "ai_debates")
VERIFY = "verify_chain_integrity"
# What the bot's verify_chain_integrity (migration 001) raises: on a mismatch its AUD-009 error, for a table it was
# not written for 'verify_chain_integrity: Unknown table %'. SQLSTATEs: no such function, no privilege, timeout.
_MISMATCH = "[AUD-009]"
_UNKNOWN_TABLE = "unknown table"
_NO_FUNCTION, _NO_PRIVILEGE, _CANCELED = "42883", "42501", "57014"

INCEPTION_UNKNOWN = Cause(
    "setting",
    "AUDIT_INCEPTION_DATE",
    "when the bot's audit trail began is not recorded: retention cannot be proven",
    "AUDIT_INCEPTION_DATE=<when the bot first recorded a policy decision, ISO 8601 UTC, e.g. 2025-01-01T00:00:00Z> "
    "in the env file, or one row in opscheck.ops_audit_inception (id 1, inception_at, recorded_by)",
)
INTACT, BROKEN, UNCOVERED, CANNOT_CHECK = "intact", "broken", "not covered", "cannot check"


@dataclass(frozen=True)
class Chain:
    """What the bot's ``verify_chain_integrity`` said about one table: ``outcome`` (``INTACT``, ``BROKEN``,
    ``UNCOVERED``, ``CANNOT_CHECK``), a one-line ``detail``, and for ``CANNOT_CHECK`` the cause with its remedy."""

    table: str
    outcome: str
    detail: str = ""
    cause: Cause | None = None

    def line(self) -> str:
        if self.outcome == CANNOT_CHECK:
            return f"cannot check {self.table}: {self.detail}"
        return f"{self.table}: {self.detail}" if self.detail else self.table


def _inception(t: Target, db: Db) -> tuple[datetime | None, str]:
    raw = t.value("AUDIT_INCEPTION_DATE")
    if raw:
        try:
            ts = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None, f"AUDIT_INCEPTION_DATE is set but is not an ISO 8601 date ({raw})"
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


def walk_chain(t: Target, db: Db, table: str) -> Chain:
    """One table's row-hash chain through the bot's own ``verify_chain_integrity``."""
    if db.first("SELECT to_regclass(%s) IS NULL AS absent", (table,))["absent"]:
        return Chain(table, UNCOVERED, "no such table")
    try:
        row = db.one(f"SELECT public.{VERIFY}(%s) AS intact", (table,))
    except DbError as exc:
        return _verify_error(t, table, exc)
    verdict = row["intact"] if row else None
    if verdict is True:
        return Chain(table, INTACT)
    if verdict is False:  # the function recomputed the chain and found a row that does not match
        return Chain(table, BROKEN)
    return Chain(
        table,
        CANNOT_CHECK,
        f"the bot's {VERIFY} returned no verdict",
        Cause(
            "bot_defect",
            f"{VERIFY}({table})",
            f"the bot's {VERIFY}('{table}') returns NULL instead of true or false",
            f"fix the bot's {VERIFY}(text) so it returns true or false for {table}, then re-run 7.6.1",
        ),
    )


def _verify_error(t: Target, table: str, exc: DbError) -> Chain:
    """What an error of ``verify_chain_integrity`` means: the bot's mismatch error is a broken chain; a table it
    was not written for is not covered; anything else means the chain cannot be checked (and why)."""
    text = str(exc)
    state = getattr(exc.__cause__, "sqlstate", None)
    role = t.db.user or "the bot's role"
    by_hand = f"check by hand: SELECT {VERIFY}('{table}');"
    if _MISMATCH in text:
        return Chain(table, BROKEN, f"the bot's {VERIFY} reports: {text}")
    if _UNKNOWN_TABLE in text.lower():
        return Chain(table, UNCOVERED, f"the bot's {VERIFY} does not know it")
    if state == _NO_FUNCTION:
        return Chain(table, UNCOVERED, f"the database has no {VERIFY}(text)")
    if state == _NO_PRIVILEGE:
        if "function" in text:
            cause = Cause(
                "grant",
                f"{VERIFY}(text) for {role}",
                f"the role {role} may not run the bot's {VERIFY}(text)",
                f'GRANT EXECUTE ON FUNCTION {VERIFY}(text) TO "{role}";',
            )
        else:
            cause = givens.table_cause(t, table, text)
        return Chain(table, CANNOT_CHECK, text, cause)
    if state == _CANCELED:
        return Chain(
            table,
            CANNOT_CHECK,
            f"the bot's {VERIFY} did not finish in time: {text}",
            Cause(
                "timeout",
                f"{VERIFY}({table})",
                f"the bot's {VERIFY}('{table}') did not finish within the statement timeout",
                f"{by_hand} (SET statement_timeout = 0 first; it walks every row)",
            ),
        )
    return Chain(
        table,
        CANNOT_CHECK,
        f"the bot's {VERIFY} errors: {text}",
        Cause(
            "bot_defect",
            f"{VERIFY}({table})",
            f"the bot's {VERIFY} errors on {table} (nothing was found altered: the chain cannot be checked): {text}",
            f"fix the bot's {VERIFY}(text) for {table} in a new TRADE_BOT migration (it must read the table's current "
            f"columns, as compute_row_hash does), then re-run 7.6.1; {by_hand}",
        ),
    )


def chain_breaks(t: Target, db: Db, tables: tuple[audit_tables.AuditTable, ...]) -> list[Chain]:
    """Each append-only audit table's chain (``walk_chain``); a table whose rows the schema lets the bot update is
    not walked (its chain cannot hold) and is listed as not covered."""
    return [
        walk_chain(t, db, tb.name) if tb.append_only else Chain(tb.name, UNCOVERED, "rows updatable by design")
        for tb in tables
    ]


def rows_retained(t: Target) -> CheckResult:
    """7.6.1: no audit row younger than the retention period is gone; every hash chain the bot can verify holds."""
    s = t.thresholds
    expected = "oldest decision = recorded inception, or an approved archival record; row-hash chains intact"
    try:
        with connect(t.db, t.redactor) as db:
            problem = missing(db, "ops_audit_inception", "ops_audit_retention")
            if problem:
                return not_installed(problem, expected, db.log.evidence())
            inception, source = _inception(t, db)
            oldest = db.one("SELECT MIN(timestamp_utc) AS oldest, now() AS now FROM policy_decision_audit")
            archivals = _archivals(db)
            chains = chain_breaks(t, db, audit_tables.discover(db))
            ev = [db.log.evidence(), csv_evidence("archival records (CSV)", archivals, t.redactor)]
    except DbError as exc:
        return failed("query failed", expected, str(exc))
    if inception is None:
        return failed("no inception", expected, f"cannot prove retention: {source}", *ev, cause=INCEPTION_UNKNOWN)
    assert oldest is not None
    now, first = oldest["now"], oldest["oldest"]
    problems = archival_problems(
        [a for a in archivals if a["table_name"] in RETAINED_TABLES], now, s.audit_retention_years
    )
    approved = [
        a["archived_before"]
        for a in archivals
        if a["table_name"] == "policy_decision_audit" and not archival_problems([a], now, s.audit_retention_years)
    ]
    allowed_start = max([inception, *approved])
    slack = timedelta(seconds=s.audit_max_gap_s)
    by = {o: [c for c in chains if c.outcome == o] for o in (INTACT, BROKEN, UNCOVERED, CANNOT_CHECK)}
    observed = (
        f"oldest decision {first}, inception {inception} ({source}); "
        f"chains intact: {', '.join(c.table for c in by[INTACT]) or 'none'}"
        + (f"; not covered: {', '.join(f'{c.table} ({c.detail})' for c in by[UNCOVERED])}" if by[UNCOVERED] else "")
        + (f"; {'; '.join(c.line() for c in by[CANNOT_CHECK])}" if by[CANNOT_CHECK] else "")
    )
    if by[BROKEN]:
        problems.append(f"row-hash chain broken (rows deleted or altered): {'; '.join(c.line() for c in by[BROKEN])}")
    if first is None:
        problems.insert(0, f"policy_decision_audit is empty although the audit trail began {inception}")
    elif first > allowed_start + slack:
        problems.insert(
            0,
            f"oldest policy decision {first} is {first - allowed_start} after the audit trail's start "
            f"{allowed_start}: rows deleted without an approved archival record",
        )
    unchecked = "; ".join(c.line() for c in by[CANNOT_CHECK])
    if problems:
        return failed(observed, expected, "; ".join(problems) + (f"; {unchecked}" if unchecked else ""), *ev)
    if by[CANNOT_CHECK]:  # nothing found wrong, but not every chain could be checked: never "altered"
        return CheckResult(Status.NOT_VERIFIED, observed, expected, unchecked, ev, by[CANNOT_CHECK][0].cause)
    return passed(observed, expected, "", *ev)


IMMUTABILITY = """
SELECT c.relname AS audit_table,
       bool_or(p.proname = 'prevent_update' AND t.tgenabled <> 'D') AS update_blocked,
       bool_or(p.proname = 'prevent_delete' AND t.tgenabled <> 'D') AS delete_blocked,
       string_agg(t.tgname || '=' || t.tgenabled::text, ' ' ORDER BY t.tgname)
         FILTER (WHERE p.proname IN ('prevent_update', 'prevent_delete')) AS triggers,
       string_agg(quote_ident(t.tgname), ' ' ORDER BY t.tgname)
         FILTER (WHERE p.proname IN ('prevent_update', 'prevent_delete') AND t.tgenabled = 'D') AS disabled,
       has_table_privilege(%(r)s, c.oid, 'UPDATE') AS can_update,
       has_table_privilege(%(r)s, c.oid, 'DELETE') AS can_delete,
       has_table_privilege(%(r)s, c.oid, 'TRUNCATE') AS can_truncate,
       pg_get_userbyid(c.relowner) = %(r)s AS owns
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
LEFT JOIN pg_proc p ON p.oid = t.tgfoid
WHERE c.relname = ANY(%(tables)s) AND c.relkind IN ('r', 'p')
GROUP BY c.oid, c.relname
ORDER BY c.relname
"""


def bot_cannot_delete(t: Target) -> CheckResult:
    """7.6.2: every audit table is protected: its prevent_delete trigger (and, where the schema declares its rows
    append-only, its prevent_update trigger) is present and enabled, and the bot's role (``BOT_DB_USER``, else the
    connecting role) holds no DELETE or TRUNCATE on it (nor UPDATE on an append-only one)."""
    expected = "prevent_update/prevent_delete enabled; no UPDATE, DELETE or TRUNCATE for the bot's role"
    try:
        with connect(t.db, t.redactor) as db:
            role = t.value("BOT_DB_USER") or db.first("SELECT current_user AS u")["u"]
            declared = {tb.name: tb for tb in audit_tables.discover(db)}
            rows = db.rows(IMMUTABILITY, {"r": role, "tables": list(declared)}) if declared else []
            found = db.one("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,))
            superuser = bool(found and found["rolsuper"])
            ev = [db.log.evidence(), csv_evidence("immutability of the audit tables (CSV)", rows, t.redactor)]
    except DbError as exc:
        return failed("query failed", expected, str(exc))
    if not rows:
        why = audit_tables.none_found(t.db.describe())
        return failed("no audit tables", expected, why, *ev, cause=Cause("bot_schema", "audit tables", why, MIGRATE))
    bad, excess, owned, triggers = [], [], [], []
    for r in rows:
        append_only = declared[r["audit_table"]].append_only
        checks = [("DELETE", r["can_delete"]), ("TRUNCATE", r["can_truncate"])]
        what = [w for w, flag in ([("UPDATE", r["can_update"])] if append_only else []) + checks if flag]
        if what:
            bad.append(f"{r['audit_table']}: role {role} has {'/'.join(what)}")
            excess.append(r["audit_table"])
            if r["owns"]:
                owned.append(r["audit_table"])
        needed = [("prevent_update", r["update_blocked"])] if append_only else []
        off = [w for w, flag in [*needed, ("prevent_delete", r["delete_blocked"])] if not flag]
        if off:
            bad.append(f"{r['audit_table']}: no enabled {'/'.join(off)} trigger")
            triggers.append((r["audit_table"], off, r["disabled"] or ""))
    observed = f"{len(rows)} audit table(s), role {role}: " + ("; ".join(bad) if bad else "all immutable")
    if bad:
        cause = _privilege_cause(role, excess, owned, superuser) if excess else _trigger_cause(triggers)
        return failed(observed, expected, f"audit rows can be changed or deleted: {'; '.join(bad)}", *ev, cause=cause)
    return passed(observed, expected, "", *ev)


MIGRATE = "apply the bot's migrations (TRADE_BOT database/migrations) to this database, then re-run"


def _privilege_cause(role: str, tables: list[str], owned: list[str], superuser: bool) -> Cause:
    """Why the bot's role may change or delete audit rows, and how to take that away."""
    if superuser:
        return Cause(
            "superuser",
            f"role {role}",
            f"the bot's role {role} is a superuser: it may delete any audit row, whatever the grants",
            "connect the bot as its own role (app_trading, migration 004) in DATABASE_URL / DB_USER, never as the "
            "compose file's POSTGRES_USER",
        )
    listed = ", ".join(tables)
    also = (
        f"; {role} owns {', '.join(owned)}: give them to the migration role (ALTER TABLE … OWNER TO postgres)"
        if owned
        else ""
    )
    return Cause(
        "grant_excess",
        f"audit tables for {role}",
        f"the bot's role {role} may change or delete rows of {listed}",
        f'REVOKE UPDATE, DELETE, TRUNCATE ON {listed} FROM "{role}";{also}',
    )


def _trigger_cause(found: list[tuple[str, list[str], str]]) -> Cause:
    """The immutability triggers that are disabled (ENABLE them) or missing (re-create them as the bot does)."""
    fixes = []
    for table, off, disabled in found:
        fixes += [f"ALTER TABLE {table} ENABLE TRIGGER {name};" for name in disabled.split()]
        if not disabled:
            fixes += [
                f"CREATE TRIGGER trg_{table}_{fn} BEFORE {'UPDATE' if fn == 'prevent_update' else 'DELETE'} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {fn}();"
                for fn in off
            ]
    return Cause(
        "immutability_trigger",
        "audit tables' prevent_update/prevent_delete triggers",
        f"immutability triggers disabled or missing on {', '.join(t for t, _, _ in found)}",
        " ".join(fixes),
    )
