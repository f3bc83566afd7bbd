"""Preconditions: when one fails, the items resting on it cannot be verified (reported as such, never as GO).

Each returns None when the precondition holds, else a one-line reason naming the item that owns the problem.
"""

from __future__ import annotations

from psycopg import sql

from ops_checks.config import Target
from ops_checks.db import DbError, connect


def database_unreachable(t: Target) -> str | None:
    try:
        with connect(t.db, t.redactor) as db:
            db.one("SELECT 1")
    except DbError as exc:
        return f"database unreachable (item 1.1.1): {exc}"
    return None


def table_unreadable(t: Target, table: str) -> str | None:
    try:
        with connect(t.db, t.redactor) as db:
            db.one(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(table)).as_string(db.conn))
    except DbError as exc:
        return f"table {table} unreadable: {exc}"
    return None


def bot_not_deciding(t: Target) -> str | None:
    fresh = t.thresholds.decisions_fresh_s
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one(
                "SELECT EXTRACT(EPOCH FROM now() - MAX(timestamp_utc)) AS age FROM policy_decision_audit "
                "WHERE correlation_id NOT LIKE 'OPSCHECK-%%'"
            )
    except DbError as exc:
        return f"policy decisions unreadable (item 1.1.4): {exc}"
    if row is None or row["age"] is None or float(row["age"]) > fresh:
        return f"the bot's policy loop is not deciding (item 1.6.3): last decision older than {fresh} s"
    return None
