"""Faults for runbook §3 (DRY_RUN → LIVE). The transition drill runs on a disposable sandbox that gets the same
faults after its env file is written; faults on the env file do nothing to a sandbox without one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from psycopg import sql

from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import Fault, chain, knob, run_sql, set_env, settle
from ops_checks.sandbox.postgres import BOT_ROLE

ENV_FILE = ".env"


def env_file_edit(old: str, new: str) -> Callable[[Sandbox], None]:
    """Change the operator's env file (the drill's ``<workdir>/.env``) the way a careless hand edit would."""

    def run(sb: Sandbox) -> None:
        path: Path = sb.workdir / ENV_FILE
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if old not in text:
                raise ValueError(f"env file has no line {old!r} to change")
            path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return run


def trail_rejects(action: str) -> Callable[[Sandbox], None]:
    """The transition trail (opscheck.ops_operator_actions) refuses this action (NOT VALID: old rows untouched)."""
    return run_sql(
        "ALTER TABLE opscheck.ops_operator_actions ADD CONSTRAINT opscheck_fault_action "
        f"CHECK (action <> '{action}') NOT VALID"
    )


def _roles(sb: Sandbox) -> sql.Composable:
    """PUBLIC, the bot's role and the session role that inherits from it (grants are per database)."""
    assert sb.db is not None
    return sql.SQL("PUBLIC, {}, {}").format(sql.Identifier(BOT_ROLE), sql.Identifier(sb.db.user))


def revoke_select(table: str) -> Callable[[Sandbox], None]:
    def run(sb: Sandbox) -> None:
        stmt = sql.SQL("REVOKE SELECT ON {} FROM {}").format(sql.Identifier(table), _roles(sb))
        sb.admin(stmt.as_string(None))

    return run


def pnl_columns_locked(sb: Sandbox) -> None:
    assert sb.db is not None
    role = sql.Identifier(sb.db.user)
    sb.admin(sql.SQL("REVOKE UPDATE ON system_settings FROM {}").format(_roles(sb)).as_string(None))
    cols = (
        "circuit_breaker_active",
        "circuit_breaker_reason",
        "circuit_breaker_triggered_at",
        "circuit_breaker_unlock_at",
        "updated_at",
    )
    sb.admin(
        sql.SQL("GRANT UPDATE ({}) ON system_settings TO {}")
        .format(sql.SQL(", ").join(map(sql.Identifier, cols)), role)
        .as_string(None)
    )


FAULTS: tuple[Fault, ...] = (
    Fault(
        "dry_run_period_gap",
        "3.1.1",
        "two hours of the 24-hour DRY_RUN period have no decisions",
        run_sql(  # the table is append-only (prevent_delete trigger): the owner bypasses triggers to make the gap
            "SET session_replication_role = replica; "
            "DELETE FROM policy_decision_audit WHERE timestamp_utc BETWEEN now() - interval '10 hours' "
            "AND now() - interval '8 hours'; SET session_replication_role = DEFAULT"
        ),
    ),
    Fault(
        "pre_transition_grafana_down",
        "3.1.2",
        "a §1 precondition fails before the transition (Grafana has no dashboards)",
        knob("hooks", dashboards=[]),
    ),
    Fault(
        "pre_transition_reset_code_missing",
        "3.1.3",
        "a §2 variable fails before the transition (GUARDIAN_RESET_CODE empty)",
        set_env("GUARDIAN_RESET_CODE", ""),
    ),
    Fault(
        "pre_transition_kill_switch_ignored",
        "3.1.4",
        "the bot ignores the kill switch, so the §4 test fails",
        knob("bot", ignore_kill_switch=True),
    ),
    Fault(
        "pre_transition_clock_skew",
        "3.1.5",
        "this host's clock is 1.5 s behind the exchange's (the bot's container agrees with the exchange)",
        chain(
            knob("valr", clock_offset_ms=1500, timestamp_window_ms=5000),
            knob("bot", clock_offset_ms=1500),
            settle(0.6),  # the bot re-syncs after the two knobs
        ),
    ),
    Fault(
        "single_operator",
        "3.1.6",
        "one person acts as operator and witness",
        chain(set_env("TRANSITION_OPERATOR", "alice"), set_env("TRANSITION_WITNESS", "Alice")),
    ),
    Fault(
        "audit_rejects_transition",
        "3.3.1",
        "the transition trail (opscheck.ops_operator_actions) refuses TRANSITION rows",
        trail_rejects("TRANSITION"),
    ),
    Fault(
        "bot_worker_survives_stop",
        "3.3.2",
        "a worker survives docker-compose down and keeps calling VALR",
        knob("bot", orphan_exchange_worker=True),
    ),
    Fault(
        "backup_table_unreadable",
        "3.3.3",
        "the application role cannot read ai_debates, so the database backup fails",
        revoke_select("ai_debates"),
    ),
    Fault(
        "env_mode_defined_twice",
        "3.3.4",
        "the env file defines EXECUTION_MODE twice (which one wins depends on the reader)",
        env_file_edit("# --- secrets ---\n", "# --- secrets ---\nEXECUTION_MODE=DRY_RUN\n"),
    ),
    Fault(
        "env_kill_switch_disabled",
        "3.3.5",
        "the env file has KILL_SWITCH_ENABLED=false",
        env_file_edit('KILL_SWITCH_ENABLED="true"', 'KILL_SWITCH_ENABLED="false"'),
    ),
    Fault(
        "pnl_columns_locked",
        "3.3.6",
        "the application role may change only the kill-switch columns of system_settings, not the daily P&L",
        pnl_columns_locked,
    ),
    Fault(
        "bot_crashes_in_live",
        "3.3.7",
        "the bot exits at start-up in LIVE (a LIVE-only configuration error)",
        knob("bot", live_start_fails=True),
    ),
    Fault(
        "bot_stays_dry_run",
        "3.3.8",
        "the bot ignores the env file and keeps running DRY_RUN",
        knob("bot", reported_execution_mode="DRY_RUN"),
    ),
    Fault(
        "exchange_rejects_test_order",
        "3.3.9",
        "VALR rejects the test order",
        knob("valr", fail={"/v1/orders/market": 400}),
    ),
    Fault(
        "audit_rejects_transition_complete",
        "3.3.10",
        "the transition trail (opscheck.ops_operator_actions) refuses TRANSITION_COMPLETE rows",
        trail_rejects("TRANSITION_COMPLETE"),
    ),
)
