"""The bot's append-only audit tables (runbook §7.1): what §7.2 exports and the §5/§7 checks read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuditTable:
    """One audit table of the bot: its name, its time column, the file it is exported to, and the name the
    runbook (§7.1/§7.2) gives it when that differs (the runbook's name does not exist in the bot's schema)."""

    name: str
    time_column: str
    filename: str
    runbook_name: str = ""


# The bot's append-only audit tables (prevent_update/prevent_delete triggers, row-hash chains; migrations 002, 006,
# 007, 008, 011, 021-025). §7.1 names `ai_debate_ledger` and `risk_audit`: the bot has `ai_debates` and
# `risk_assessments`. §7.1's `trade_learning_events` is left out: the bot's role has no grant on it and it is not
# append-only (no immutability triggers). `opscheck runbook check` reports the runbook's names.
AUDIT_TABLES: tuple[AuditTable, ...] = (
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
)
BY_TABLE = {t.name: t for t in AUDIT_TABLES}
