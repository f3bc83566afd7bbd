"""Preconditions: when one fails, the items resting on it cannot be verified (reported as such, never as GO).

Each returns None when the precondition holds, else a *not verified* result: its reason, the item that owns the
problem (``blocked_by``: the verdict files this item under that item's cause) and, where the problem is its own
(a table the role cannot read), a structured cause with its remedy.
"""

from __future__ import annotations

import re

from psycopg import sql

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.access.webhook_signal import TEST_SIGNAL_PREFIX
from ops_checks.core import readings
from ops_checks.core.result import Cause, CheckResult, not_verified

DATABASE_ITEM = "1.1.1"


def database_blocked(t: Target, problem: str) -> CheckResult:
    """Items that read the database, when it cannot be reached: they rest on 1.1.1 (which names the cause)."""
    return not_verified(
        f"the database cannot be reached: {problem}",
        blocked_by=(DATABASE_ITEM,),
        cause=Cause(
            "unreachable",
            f"database {t.db.describe()}",
            f"the bot's database {t.db.describe()} cannot be reached: {problem}",
            "start Postgres or correct DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD in the env file; check with "
            f"pg_isready -h {t.db.host} -p {t.db.port}",
        ),
    )


def database_error(t: Target) -> str | None:
    """Why the database cannot be reached (one line), or None."""
    try:
        with connect(t.db, t.redactor) as db:
            db.one("SELECT 1")
    except DbError as exc:
        return str(exc)
    return None


def database_unreachable(t: Target) -> CheckResult | None:
    problem = database_error(t)
    return database_blocked(t, problem) if problem else None


def table_cause(t: Target, table: str, error: str, privilege: str = "SELECT") -> Cause:
    """What keeps the bot's role from a table, as a cause with its remedy: a missing grant or a missing table."""
    return _table_cause(t.db.user or "the bot's role", table, error, privilege)


def _table_cause(role: str, table: str, error: str, privilege: str) -> Cause:
    # the key names the privilege and the table, not the login role: every session (and every drill's disposable
    # sandbox) that meets the same missing grant shares one cause
    if "does not exist" in error:
        return Cause(
            "missing_table",
            table,
            f"table {table} does not exist in the bot's database",
            f"apply the bot's migration that creates {table} (TRADE_BOT database/migrations), then re-run",
        )
    if "permission denied" in error:
        return Cause(
            "grant",
            f"{privilege} on {table}",
            f"the bot's role {role} may not {privilege} {table}",
            f'GRANT {privilege} ON {table} TO "{role}";',
        )
    return Cause("database_error", table, f"table {table} cannot be read: {error}", "see the database's log")


_TABLE_PROBLEM = re.compile(r'permission denied for (?:table|relation) "?(\w+)"?|relation "(\w+)" does not exist')


def cause_in(error: str, role: str = "the bot's role") -> Cause | None:
    """The table cause a database error names ("permission denied for table x", 'relation "x" does not exist'), for
    code that meets it mid-procedure (a drill, a report) and has only the error's text; None when it names none."""
    found = _TABLE_PROBLEM.search(error)
    if found is None:
        return None
    return _table_cause(role, found.group(1) or found.group(2), error, "SELECT")


def table_unreadable(t: Target, table: str) -> CheckResult | None:
    try:
        with connect(t.db, t.redactor) as db:
            db.one(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier(table)).as_string(db.conn))
    except DbError as exc:
        if str(exc).startswith("cannot connect"):
            return database_blocked(t, str(exc))
        return not_verified(f"table {table} unreadable: {exc}", cause=table_cause(t, table, str(exc)))
    return None


def bot_not_deciding(t: Target) -> CheckResult | None:
    fresh = t.thresholds.decisions_fresh_s
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one(
                "SELECT EXTRACT(EPOCH FROM now() - MAX(timestamp_utc)) AS age FROM policy_decision_audit "
                "WHERE coalesce(context_snapshot->>'signal_id', '') NOT LIKE %s",
                (TEST_SIGNAL_PREFIX + "%",),
            )
    except DbError as exc:
        if str(exc).startswith("cannot connect"):
            return database_blocked(t, str(exc))
        return not_verified(
            f"policy decisions unreadable: {exc}",
            cause=table_cause(t, "policy_decision_audit", str(exc)),
            blocked_by=("1.1.4",),
        )
    stale = f"the bot's policy loop is not deciding: last decision older than {fresh} s"
    if row is None or row["age"] is None:
        return not_verified(stale, blocked_by=("1.6.3",))
    try:  # an 'infinity' timestamp or one in the future is no recent decision
        age = readings.seconds_ago(row["age"], "the latest decision's age")
    except readings.BadReading as exc:
        return not_verified(f"the bot's policy loop is not deciding: {exc}", blocked_by=("1.6.3",))
    return not_verified(stale, blocked_by=("1.6.3",)) if age > fresh else None


def bot_unhealthy(t: Target) -> CheckResult | None:
    """None when ``GET /health`` answers 200 with the profile's healthy status (item 1.1.6 owns the failure)."""
    from ops_checks.access import botapi  # lazy: botapi imports http, kept out of the precondition import path

    answer = botapi.health(t)
    if answer.error is not None:
        return not_verified(f"the bot's API is not answering: {answer.error}", blocked_by=("1.1.6",))
    status = answer.body.get("status")
    if answer.status_code != 200 or status != t.profile.health_ok_status:
        return not_verified(
            f"the bot is not healthy: {t.profile.health_path} answered HTTP {answer.status_code}", blocked_by=("1.1.6",)
        )
    return None


def metrics_unreadable(t: Target) -> CheckResult | None:
    """None when the bot's metrics scrape and parse (item 1.4.2 owns the failure)."""
    from ops_checks.access import prometheus

    try:
        prometheus.scrape(t)
    except prometheus.MetricsError as exc:
        return not_verified(f"the bot's metrics are unreadable: {exc}", blocked_by=("1.4.2",))
    return None
