"""Faults for runbook §1 (preconditions): one per checklist item."""

from __future__ import annotations

from ops_checks.sandbox.faults import (
    Fault,
    chain,
    knob,
    logged,
    revoke_connect,
    run_sql,
    set_env,
    settle,
    unhealthy_container,
)
from ops_checks.sandbox.faults.s8_clock_drift import bot_synced

FAULTS: tuple[Fault, ...] = (
    Fault("db_connect_revoked", "1.1.1", "the application role may no longer connect to the database", revoke_connect),
    Fault(
        "settings_stale",
        "1.1.2",
        "daily P&L tracking not reset for 3 days",
        run_sql("UPDATE system_settings SET daily_pnl_reset_at = now() - interval '3 days' WHERE id = 1"),
    ),
    Fault(
        "circuit_breaker_table_missing",
        "1.1.3",
        "circuit_breaker_events dropped",
        run_sql("DROP TABLE circuit_breaker_events"),
    ),
    Fault(
        "policy_audit_not_readable",
        "1.1.4",
        "the bot's role lacks SELECT on policy_decision_audit (the real migrations grant INSERT only)",
        run_sql("REVOKE SELECT ON policy_decision_audit FROM app_trading"),
    ),
    Fault(
        "policy_audit_table_missing",
        "1.1.4",
        "policy_decision_audit dropped",
        run_sql("DROP TABLE policy_decision_audit"),
    ),
    Fault("container_unhealthy", "1.1.5", "the bot's container health check reports unhealthy", unhealthy_container),
    Fault("bot_health_failing", "1.1.6", "the bot's /health answers 503", knob("bot", health_endpoint_ok=False)),
    Fault("exchange_read_only", "1.2.1", "VALR is in read-only status", knob("valr", status="read-only")),
    Fault(
        "api_key_cannot_trade",
        "1.2.2",
        "the API key lost its Trade permission",
        knob("valr", permissions=["View access"]),
    ),
    Fault(
        "balance_cache_stale",
        "1.2.3",
        "the bot's equity_zar_gauge reports R80,000 against VALR's balance",
        chain(knob("bot", equity_override_zar="80000.00"), settle(0.6)),
    ),
    Fault(
        "clock_skew_1500",
        "1.2.4",
        "the exchange clock is 1.5 s ahead of ours (the bot has synced since, as it would have long before a run)",
        chain(knob("valr", clock_offset_ms=1500, timestamp_window_ms=5000), bot_synced),
    ),
    Fault(
        "kill_switch_ignored", "1.3.1", "the bot's policy ignores the kill switch", knob("bot", ignore_kill_switch=True)
    ),
    Fault(
        "circuit_breaker_misconfigured",
        "1.3.2",
        "daily loss limit set to 5 %",
        run_sql("UPDATE system_settings SET daily_loss_limit_pct = 0.05 WHERE id = 1"),
    ),
    Fault(
        "budget_not_parsed",
        "1.3.3",
        "the budget integration loads no entries",
        chain(knob("bot", budget_entries=0), settle(0.6)),
    ),
    Fault(
        "health_degraded",
        "1.3.4",
        "health verification reports YELLOW",
        chain(knob("bot", health_status="YELLOW"), settle(0.6)),
    ),
    Fault(
        "risk_elevated",
        "1.3.5",
        "the risk governor reports ELEVATED",
        chain(knob("bot", risk_assessment="ELEVATED"), settle(0.6)),
    ),
    Fault(
        "discord_webhook_deleted", "1.4.1", "the Discord webhook was deleted (404)", knob("hooks", discord_status=404)
    ),
    Fault("metrics_broken", "1.4.2", "the metrics endpoint answers 500", knob("bot", metrics_broken=True)),
    Fault("grafana_dashboards_missing", "1.4.3", "Grafana has no dashboards", knob("hooks", dashboards=[])),
    Fault(
        "log_writer_stopped",
        "1.4.4",
        "the bot stopped writing its log (after writing its status lines)",
        chain(logged("health_status=", "risk_assessment="), knob("bot", log_writer_stopped=True), settle(2.5)),
    ),
    Fault(
        "starting_equity_wrong",
        "1.5.1",
        "starting equity recorded as R150,000 against a R100,000 balance",
        run_sql("UPDATE system_settings SET daily_starting_equity_zar = 150000.00 WHERE id = 1"),
    ),
    Fault("zar_floor_unset", "1.5.2", "ZAR_FLOOR missing from the environment", set_env("ZAR_FLOOR", None)),
    Fault("max_order_too_high", "1.5.3", "MAX_ORDER_ZAR set to R50,000", set_env("MAX_ORDER_ZAR", "50000")),
    Fault("max_risk_garbage", "1.5.4", "MAX_RISK_ZAR is not a number", set_env("MAX_RISK_ZAR", "five thousand")),
    Fault(
        "bot_running_live",
        "1.6.1",
        "the bot runs in LIVE mode despite a DRY_RUN environment",
        knob("bot", reported_execution_mode="LIVE"),
    ),
    Fault(
        "webhook_secret_mismatch",
        "1.6.2",
        "the operator's SOVEREIGN_SECRET (the key that signs webhooks) no longer matches the bot's",
        set_env("SOVEREIGN_SECRET", "stale-sovereign-secret-0123456789abcdef"),
    ),
    Fault(
        "policy_loop_stopped",
        "1.6.3",
        "the bot's policy loop stopped deciding",
        chain(knob("bot", loop_paused=True), settle(2.5)),
    ),
    Fault(
        "dry_run_gap",
        "1.6.4",
        "two hours of the DRY_RUN period have no decisions",
        run_sql(  # the table is append-only (prevent_delete trigger): the owner bypasses triggers to make the gap
            "SET session_replication_role = replica; "
            "DELETE FROM policy_decision_audit WHERE timestamp_utc BETWEEN now() - interval '10 hours' "
            "AND now() - interval '8 hours'; SET session_replication_role = DEFAULT"
        ),
    ),
)
