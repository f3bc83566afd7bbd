"""Faults: each breaks the sandbox environment the way the runbook fears, never the check itself.

Every fault names the runbook item that must fail because of it (the fault matrix asserts that this item,
and no other item of its runbook section, fails).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from ops_checks.sandbox.environment import BOT_SERVICE, Sandbox


@dataclass(frozen=True)
class Fault:
    name: str
    item: str
    description: str
    apply: Callable[[Sandbox], None]


def _bot(sb: Sandbox):  # type: ignore[no-untyped-def]
    assert sb.bot is not None
    return sb.bot


def _revoke_connect(sb: Sandbox) -> None:
    assert sb.db is not None
    sb.admin(sql.SQL("REVOKE CONNECT ON DATABASE {d} FROM PUBLIC, {r}").format(
        d=sql.Identifier(sb.db.name), r=sql.Identifier(sb.db.user)).as_string(None))


def _settle(seconds: float) -> Callable[[Sandbox], None]:
    def wait(_: Sandbox) -> None:
        time.sleep(seconds)
    return wait


def _chain(*steps: Callable[[Sandbox], None]) -> Callable[[Sandbox], None]:
    def run(sb: Sandbox) -> None:
        for step in steps:
            step(sb)
    return run


def _set_env(name: str, value: str | None) -> Callable[[Sandbox], None]:
    def run(sb: Sandbox) -> None:
        if value is None:
            sb.env.pop(name, None)
        else:
            sb.env[name] = value
    return run


def _knob(component: str, **values: object) -> Callable[[Sandbox], None]:
    def run(sb: Sandbox) -> None:
        obj = {"bot": lambda: _bot(sb).knobs, "valr": lambda: sb.valr, "hooks": lambda: sb.hooks.knobs}[component]()
        for k, v in values.items():
            if not hasattr(obj, k):
                raise AttributeError(f"{component} has no knob {k}")
            setattr(obj, k, v)
    return run


def _sql(statement: str) -> Callable[[Sandbox], None]:
    return lambda sb: sb.admin(statement)


def _unhealthy_container(sb: Sandbox) -> None:
    sb.container_health[BOT_SERVICE] = "unhealthy"


FAULTS: dict[str, Fault] = {f.name: f for f in (
    Fault("db_connect_revoked", "1.1.1", "the application role may no longer connect to the database",
          _revoke_connect),
    Fault("settings_stale", "1.1.2", "daily P&L tracking not reset for 3 days",
          _sql("UPDATE system_settings SET daily_pnl_reset_at = now() - interval '3 days' WHERE id = 1")),
    Fault("circuit_breaker_table_missing", "1.1.3", "circuit_breaker_events dropped",
          _sql("DROP TABLE circuit_breaker_events")),
    Fault("policy_audit_table_missing", "1.1.4", "policy_decision_audit dropped",
          _sql("DROP TABLE policy_decision_audit")),
    Fault("container_unhealthy", "1.1.5", "the bot's container health check reports unhealthy",
          _unhealthy_container),
    Fault("bot_health_failing", "1.1.6", "the bot's /health answers 503", _knob("bot", health_endpoint_ok=False)),
    Fault("exchange_read_only", "1.2.1", "VALR is in read-only status", _knob("valr", status="read-only")),
    Fault("api_key_cannot_trade", "1.2.2", "the API key lost its Trade permission",
          _knob("valr", permissions=["View access"])),
    Fault("balance_cache_stale", "1.2.3", "the bot's cached ZAR balance disagrees with VALR",
          _sql("UPDATE valr_balances SET balance = 80000.00 WHERE currency = 'ZAR'")),
    Fault("clock_skew_1500", "1.2.4", "the exchange clock is 1.5 s ahead of ours",
          _knob("valr", clock_offset_ms=1500, timestamp_window_ms=5000)),
    Fault("kill_switch_ignored", "1.3.1", "the bot's policy ignores the kill switch",
          _knob("bot", ignore_kill_switch=True)),
    Fault("circuit_breaker_misconfigured", "1.3.2", "daily loss limit set to 5 %",
          _sql("UPDATE system_settings SET daily_loss_limit_pct = 0.05 WHERE id = 1")),
    Fault("budget_not_parsed", "1.3.3", "the budget integration loads no entries",
          _chain(_knob("bot", budget_entries=0), _settle(0.6))),
    Fault("health_degraded", "1.3.4", "health verification reports YELLOW",
          _chain(_knob("bot", health_status="YELLOW"), _settle(0.6))),
    Fault("risk_elevated", "1.3.5", "the risk governor reports ELEVATED",
          _chain(_knob("bot", risk_assessment="ELEVATED"), _settle(0.6))),
    Fault("discord_webhook_deleted", "1.4.1", "the Discord webhook was deleted (404)",
          _knob("hooks", discord_status=404)),
    Fault("metrics_broken", "1.4.2", "the metrics endpoint answers 500", _knob("bot", metrics_broken=True)),
    Fault("grafana_dashboards_missing", "1.4.3", "Grafana has no dashboards", _knob("hooks", dashboards=[])),
    Fault("log_writer_stopped", "1.4.4", "the bot stopped writing its log",
          _chain(_knob("bot", log_writer_stopped=True), _settle(2.5))),
    Fault("starting_equity_wrong", "1.5.1", "starting equity recorded as R150,000 against a R100,000 balance",
          _sql("UPDATE system_settings SET daily_starting_equity_zar = 150000.00 WHERE id = 1")),
    Fault("zar_floor_unset", "1.5.2", "ZAR_FLOOR missing from the environment", _set_env("ZAR_FLOOR", None)),
    Fault("max_order_too_high", "1.5.3", "MAX_ORDER_ZAR set to R50,000", _set_env("MAX_ORDER_ZAR", "50000")),
    Fault("max_risk_garbage", "1.5.4", "MAX_RISK_ZAR is not a number", _set_env("MAX_RISK_ZAR", "five thousand")),
    Fault("bot_running_live", "1.6.1", "the bot runs in LIVE mode despite a DRY_RUN environment",
          _knob("bot", reported_execution_mode="LIVE")),
    Fault("webhook_secret_mismatch", "1.6.2", "the operator's WEBHOOK_SECRET no longer matches the bot's",
          _set_env("WEBHOOK_SECRET", "stale-webhook-secret-0123456789abcdef")),
    Fault("policy_loop_stopped", "1.6.3", "the bot's policy loop stopped deciding",
          _chain(_knob("bot", loop_paused=True), _settle(2.5))),
    Fault("dry_run_gap", "1.6.4", "two hours of the DRY_RUN period have no decisions",
          _sql("DELETE FROM policy_decision_audit WHERE timestamp_utc BETWEEN now() - interval '10 hours' "
               "AND now() - interval '8 hours'")),
)}


def apply(sb: Sandbox, names: list[str]) -> None:
    for name in names:
        if name not in FAULTS:
            raise KeyError(f"unknown fault {name!r}; known: {', '.join(sorted(FAULTS))}")
        FAULTS[name].apply(sb)
