"""Faults for runbook §5 (emergency shutdown). The drills run on a disposable sandbox that gets the same faults."""

from __future__ import annotations

from psycopg import sql

from ops_checks.sandbox.environment import DB_START_ENV, Sandbox
from ops_checks.sandbox.faults import Fault, knob, set_env
from ops_checks.sandbox.postgres import BOT_ROLE


def audit_table_unreadable(sb: Sandbox) -> None:
    assert sb.db is not None
    for role in (sb.db.user, BOT_ROLE):  # the session role inherits the bot role's grants
        stmt = sql.SQL("REVOKE SELECT ON circuit_breaker_events FROM {}").format(sql.Identifier(role))
        sb.admin(stmt.as_string(None))


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


def emergency_event_not_writable(sb: Sandbox) -> None:
    assert sb.db is not None
    for role in (sb.db.user, BOT_ROLE):  # the session role inherits the bot role's grants
        stmt = sql.SQL("REVOKE INSERT ON circuit_breaker_events FROM {}").format(sql.Identifier(role))
        sb.admin(stmt.as_string(None))


FAULTS += (
    Fault(
        "kill_switch_reseeded_on_start",
        "5.7.1",
        "the database's start-up re-seeds system_settings: the kill switch is gone when postgres comes back",
        set_env(DB_START_ENV, "reseed_settings"),
    ),
    Fault(
        "bot_restarts_with_database",
        "5.7.2",
        "a restart policy brings the bot back when postgres is started for the investigation",
        set_env(DB_START_ENV, "restart_bot"),
    ),
    Fault(
        "balances_unreadable",
        "5.7.3",
        "VALR's balances endpoint fails (503): open positions cannot be reviewed",
        knob("valr", fail={"/v1/account/balances": 503}),
    ),
    Fault(
        "emergency_event_not_logged",
        "5.7.4",
        "the application role may not INSERT into circuit_breaker_events: the emergency leaves no audit event",
        emergency_event_not_writable,
    ),
    Fault(
        "stakeholder_alert_failing",
        "5.7.5",
        "the alert webhook fails (503): stakeholders are not notified",
        knob("hooks", discord_status=503),
    ),
    Fault(
        "emergency_root_cause_blank",
        "5.7.6",
        "the operator records no root cause for the emergency",
        set_env("EMERGENCY_ROOT_CAUSE", ""),
    ),
)
