"""Faults for runbook §5 (emergency shutdown). The drills run on a disposable sandbox that gets the same faults."""

from __future__ import annotations

from psycopg import sql

from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import Fault, knob


def audit_table_unreadable(sb: Sandbox) -> None:
    assert sb.db is not None
    sb.admin(
        sql.SQL("REVOKE SELECT ON circuit_breaker_events FROM {}").format(sql.Identifier(sb.db.user)).as_string(None)
    )


FAULTS: tuple[Fault, ...] = (
    Fault(
        "l1_one_liner_ignored",
        "5.2.1",
        "the bot does not act on the emergency kill switch",
        knob("bot", ignore_kill_switch=True),
    ),
    Fault(
        "orphan_exchange_worker",
        "5.3.1",
        "a worker survives docker stop and keeps calling VALR",
        knob("bot", orphan_exchange_worker=True),
    ),
    Fault(
        "orphan_db_session",
        "5.4.1",
        "a session of the application role survives the full stop",
        knob("bot", orphan_db_session=True),
    ),
    Fault(
        "emergency_dump_unreadable",
        "5.5.1",
        "the application role can no longer read circuit_breaker_events",
        audit_table_unreadable,
    ),
)
