"""Faults for runbook §6 (post-incident). The incident drill runs on a disposable sandbox that gets the same faults.

The operator's own words (how the incident was detected, its root cause, the fix) are inputs of the drill read from
the sandbox env; a fault that blanks one of them is an operator who skipped that part of the paperwork."""

from __future__ import annotations

from psycopg import sql

from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import Fault, chain, knob, set_env, settle
from ops_checks.sandbox.faults.s3_transition import pnl_columns_locked
from ops_checks.sandbox.postgres import BOT_ROLE


def orders_unreadable(sb: Sandbox) -> None:
    assert sb.db is not None
    for role in (sb.db.user, BOT_ROLE):  # the session role inherits the bot role's grants
        stmt = sql.SQL("REVOKE SELECT ON trading_orders FROM PUBLIC, {}").format(sql.Identifier(role))
        sb.admin(stmt.as_string(None))


FAULTS: tuple[Fault, ...] = (
    Fault(
        "breaker_does_not_trip",
        "6.1.1",
        "the bot's loss-breach handler is broken: the kill switch is not active when the incident is captured",
        knob("bot", breach_handler=False),
    ),
    Fault(
        "detection_not_documented",
        "6.1.2",
        "the operator records no word on how the incident was detected",
        set_env("INCIDENT_DETECTION", ""),
    ),
    Fault(
        "incident_orders_unreadable",
        "6.1.3",
        "the application role cannot read trading_orders, so the state capture is incomplete",
        orders_unreadable,
    ),
    Fault(
        "stakeholder_webhook_gone",
        "6.1.5",
        "the alert webhook was deleted (404): nobody is notified",
        knob("hooks", discord_status=404),
    ),
    Fault(
        "open_orders_unavailable",
        "6.1.6",
        "VALR's open-orders endpoint fails (500): positions cannot be assessed",
        knob("valr", fail={"/v1/orders/open": 500}),
    ),
    Fault(
        "root_cause_blank",
        "6.4.1",
        "the operator documents no root cause before resuming",
        set_env("INCIDENT_ROOT_CAUSE", ""),
    ),
    Fault(
        "fix_blank",
        "6.4.2",
        "the operator documents neither a fix nor why none applies",
        set_env("INCIDENT_FIX", ""),
    ),
    Fault(
        "halt_latched_after_resume",
        "6.4.3",
        "the bot stays HALTed after the kill switch is deactivated",
        knob("bot", latch_kill_switch=True),
    ),
    Fault(
        "health_yellow",
        "6.4.4",
        "the bot reports health_status=YELLOW",
        chain(knob("bot", health_status="YELLOW"), settle(0.6)),
    ),
    Fault(
        "budget_not_loaded",
        "6.4.5",
        "the bot's budget file has no entries",
        chain(knob("bot", budget_entries=0), settle(0.6)),
    ),
    Fault(
        "resume_clock_skew",
        "6.4.6",
        "this host's clock is 1.5 s behind the exchange's (the bot's container agrees with the exchange)",
        chain(
            knob("valr", clock_offset_ms=1500, timestamp_window_ms=5000),
            knob("bot", clock_offset_ms=1500),
            settle(0.6),  # the bot re-syncs after the two knobs
        ),
    ),
    Fault(
        "resume_exchange_read_only",
        "6.4.7",
        "VALR is in read-only mode at resume time",
        knob("valr", status="read-only"),
    ),
    Fault(
        "pnl_reset_denied",
        "6.4.8",
        "the application role may not reset the daily P&L columns of system_settings",
        pnl_columns_locked,
    ),
)
