"""Preconditions: when one fails, the items resting on it cannot be verified (reported as such, never as GO).

Each returns None when the precondition holds, else a one-line reason naming the item that owns the problem.
"""

from __future__ import annotations

from psycopg import sql

from ops_checks.core import readings
from ops_checks.target.config import Target
from ops_checks.target.db import DbError, connect
from ops_checks.target.signal import TEST_SIGNAL_PREFIX


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
                "WHERE coalesce(context_snapshot->>'signal_id', '') NOT LIKE %s",
                (TEST_SIGNAL_PREFIX + "%",),
            )
    except DbError as exc:
        return f"policy decisions unreadable (item 1.1.4): {exc}"
    stale = f"the bot's policy loop is not deciding (item 1.6.3): last decision older than {fresh} s"
    if row is None or row["age"] is None:
        return stale
    try:  # an 'infinity' timestamp or one in the future is no recent decision
        age = readings.seconds_ago(row["age"], "the latest decision's age")
    except readings.BadReading as exc:
        return f"the bot's policy loop is not deciding (item 1.6.3): {exc}"
    return stale if age > fresh else None


def bot_unhealthy(t: Target) -> str | None:
    """None when ``GET /health`` answers 200 with the profile's healthy status (item 1.1.6 owns the failure)."""
    from ops_checks.target import botapi  # lazy: botapi imports http, kept out of the precondition import path

    answer = botapi.health(t)
    if answer.error is not None:
        return f"the bot's API is not answering (item 1.1.6): {answer.error}"
    status = answer.body.get("status")
    if answer.status_code != 200 or status != t.profile.health_ok_status:
        return f"the bot is not healthy (item 1.1.6): {t.profile.health_path} answered HTTP {answer.status_code}"
    return None


def metrics_unreadable(t: Target) -> str | None:
    """None when the bot's metrics scrape and parse (item 1.4.2 owns the failure)."""
    from ops_checks.target import prometheus

    try:
        prometheus.scrape(t)
    except prometheus.MetricsError as exc:
        return f"the bot's metrics are unreadable (item 1.4.2): {exc}"
    return None
