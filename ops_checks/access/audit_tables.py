"""The bot's audit tables (runbook §7.1): what §7.2 exports, §5.5 dumps and §7.6 / the restore drill check.

They are the bot's hash-chained tables as its schema declares them, read from the database, never a fixed list:
every table of schema ``public`` with a trigger that runs ``compute_row_hash()`` on INSERT (the bot's chain of custody:
migrations 001–026 of TRADE_BOT v1.9.0 give 15 such tables, later migrations 027–033 16 more). For each, the
database also says whether its rows are declared append-only (a ``prevent_update`` trigger, enabled or not) and how
its rows are ordered (its primary key).

What the schema cannot say comes from the bot's migrations (``KNOWN``): the time column §7.2's query ranges over,
the export file name, and the name the runbook (§7.1/§7.2) gives a table when it differs (``ai_debate_ledger`` is
``ai_debates``, ``risk_audit`` is ``risk_assessments``). A table the suite does not know is exported under its own
name, ranged over its first time column (``created_at`` … ); one without any time column is exported whole.
§7.1's ``trade_learning_events`` is no audit table: it has no row hash and no immutability trigger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

HASH_FUNCTION = "compute_row_hash"  # the bot's chain-of-custody trigger function (migration 001 on)
SCHEMA = "public"


@dataclass(frozen=True)
class AuditTable:
    """One audit table of the bot: its name, its time column (empty: none, exported whole), the file it is
    exported to, the name the runbook gives it when that differs, the columns that order its rows, and whether its
    rows are declared append-only (``prevent_update``; otherwise the schema lets the bot update them)."""

    name: str
    time_column: str
    filename: str
    runbook_name: str = ""
    key: tuple[str, ...] = ("id",)
    append_only: bool = True


# Facts of the bot's migrations for the tables it had at v1.9.0 (002, 006, 007, 008, 011, 021-025): their time
# column, export file and runbook name. Which tables exist, and their triggers, are read from the database.
KNOWN: tuple[AuditTable, ...] = (
    AuditTable("policy_decision_audit", "timestamp_utc", "policy_decisions.csv"),
    AuditTable("circuit_breaker_events", "created_at", "circuit_breaker_events.csv"),
    AuditTable("trading_orders", "created_at", "trading_orders.csv"),
    AuditTable("ai_debates", "created_at", "ai_debates.csv", "ai_debate_ledger"),
    AuditTable("risk_assessments", "created_at", "risk_assessments.csv", "risk_audit"),
    AuditTable("signals", "created_at", "signals.csv"),
    AuditTable("order_execution", "created_at", "order_execution.csv"),
    AuditTable("order_events", "created_at", "order_events.csv"),
    AuditTable("audit_log", "created_at", "audit_log.csv"),
    AuditTable("strategy_decisions", "decided_at", "strategy_decisions.csv"),
    AuditTable("trade_state_transitions", "transitioned_at", "trade_state_transitions.csv"),
    AuditTable("post_trade_snapshots", "created_at", "post_trade_snapshots.csv"),
    AuditTable("trade_lifecycle", "created_at", "trade_lifecycle.csv", append_only=False),
    AuditTable("hitl_approvals", "requested_at", "hitl_approvals.csv", append_only=False),
    AuditTable("deep_link_tokens", "created_at", "deep_link_tokens.csv", key=("token",), append_only=False),
)
BY_TABLE = {t.name: t for t in KNOWN}
#: the bot's tables whose migrations declare them append-only (prevent_update): a dropped trigger does not change that
DECLARED_APPEND_ONLY = frozenset(t.name for t in KNOWN if t.append_only)
TIME_COLUMNS = ("created_at", "timestamp_utc", "requested_at", "decided_at", "transitioned_at", "updated_at")

DISCOVER = f"""
SELECT c.relname::text AS name,
       bool_or(p.proname = 'prevent_update') AS prevent_update,
       ARRAY(SELECT a.attname::text
             FROM pg_index i
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.n) AS key,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               AND a.atttypid IN ('timestamptz'::regtype, 'timestamp'::regtype)
             ORDER BY a.attnum) AS time_columns
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid AND c.relkind IN ('r', 'p')
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = '{SCHEMA}'
JOIN pg_proc p ON p.oid = t.tgfoid
WHERE NOT t.tgisinternal
GROUP BY c.oid, c.relname
HAVING bool_or(p.proname = '{HASH_FUNCTION}' AND (t.tgtype & 4) <> 0)
ORDER BY c.relname"""


class Rows(Protocol):
    """What can run ``DISCOVER``: the suite's ``Db`` (``rows``)."""

    def rows(self, sql: str, params: Any = None) -> list[dict[str, Any]]: ...


def from_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[AuditTable, ...]:
    """The audit tables from ``DISCOVER``'s rows: the bot's known facts where it has them, the schema's otherwise;
    the known tables first, in ``KNOWN``'s order, then the others by name."""
    found = []
    for r in rows:
        name = str(r["name"])
        key = tuple(r["key"] or ()) or ("id",)
        append_only = bool(r["prevent_update"]) or name in DECLARED_APPEND_ONLY
        known = BY_TABLE.get(name)
        if known is not None:
            found.append(replace(known, key=key, append_only=append_only))
            continue
        times = list(r["time_columns"] or ())
        time_column = next((c for c in TIME_COLUMNS if c in times), times[0] if times else "")
        found.append(AuditTable(name, time_column, f"{name}.csv", key=key, append_only=append_only))
    order = {t.name: n for n, t in enumerate(KNOWN)}
    return tuple(sorted(found, key=lambda t: (order.get(t.name, len(order)), t.name)))


def discover(db: Rows) -> tuple[AuditTable, ...]:
    """The bot's hash-chained tables in this database (raises the connection's error, e.g. ``DbError``)."""
    return from_rows(db.rows(DISCOVER))


def discover_cursor(cur: Any) -> tuple[AuditTable, ...]:
    """``discover`` on a plain psycopg cursor (the export's own REPEATABLE READ snapshot)."""
    cur.execute(DISCOVER)
    names = [d.name for d in cur.description]
    return from_rows(r if isinstance(r, Mapping) else dict(zip(names, r, strict=True)) for r in cur.fetchall())


def none_found(database: str) -> str:
    """The one-line reason when the database declares no audit table at all."""
    return (
        f"{database} has no hash-chained audit table (no table in schema {SCHEMA} has a {HASH_FUNCTION}() trigger): "
        "is it the bot's database, with its migrations applied?"
    )
