"""Faults for runbook §4 (kill switch): one per item of the §4.3 procedure, §4.5's timing and the §4.1 oracle."""

from __future__ import annotations

from ops_checks.sandbox.faults import Fault, knob, run_sql

FORGED_DECISION = (
    "INSERT INTO policy_decision_audit (correlation_id, policy_decision, reason_code, context_snapshot, row_hash) "
    "VALUES (gen_random_uuid(), 'ALLOW', 'ALLOW_ALL_GATES_PASSED', '{\"kill_switch_active\": true, "
    '"budget_signal": "ALLOW", "health_status": "GREEN", "risk_assessment": "HEALTHY"}\'::jsonb, \'\')'
)
# The real bot's migration 026 redefines compute_row_hash() with a CASE over its tables that no longer names
# circuit_breaker_events, so every insert there raises. The sandbox's function is replaced by one that does that.
ROW_HASH_REJECTS_EVENTS = """
CREATE OR REPLACE FUNCTION public.compute_row_hash() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    prev_hash text;
BEGIN
    IF TG_TABLE_NAME NOT IN ('signals', 'ai_debates', 'trading_orders', 'order_execution', 'order_events',
                             'risk_assessments', 'policy_decision_audit', 'trade_lifecycle', 'trade_state_transitions',
                             'hitl_approvals', 'post_trade_snapshots', 'audit_log', 'deep_link_tokens',
                             'strategy_decisions') THEN
        RAISE EXCEPTION 'compute_row_hash: Unknown table %', TG_TABLE_NAME;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_NAME));
    EXECUTE format('SELECT row_hash FROM %I.%I ORDER BY %s LIMIT 1', TG_TABLE_SCHEMA, TG_TABLE_NAME,
                   public.row_hash_order(TG_TABLE_NAME))
        INTO prev_hash;
    prev_hash := COALESCE(prev_hash, public.get_genesis_hash());
    NEW.row_hash := encode(public.digest(prev_hash || (to_jsonb(NEW) - 'row_hash')::text, 'sha256'), 'hex');
    RETURN NEW;
END;
$$"""
# Decisions vanish on their way into the audit table: the bot "records" them, nothing is stored (the real bot
# never writes policy_decision_audit at all). Only rows written from now on; the seeded history stays.
NO_DECISIONS = (
    "CREATE FUNCTION opscheck_fault_drop_decision() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$; "
    "CREATE TRIGGER opscheck_fault_drop_decision BEFORE INSERT ON policy_decision_audit "
    "FOR EACH ROW EXECUTE FUNCTION opscheck_fault_drop_decision()"
)
LEFT_ON = (
    "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = 'LEFT_OVER', "
    "circuit_breaker_triggered_at = now() WHERE id = 1"
)
STICKY_KILL_SWITCH = (
    "CREATE FUNCTION opscheck_fault_sticky_kill_switch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF OLD.circuit_breaker_active THEN NEW.circuit_breaker_active := TRUE; "
    "NEW.circuit_breaker_reason := OLD.circuit_breaker_reason; "
    "NEW.circuit_breaker_triggered_at := OLD.circuit_breaker_triggered_at; END IF; RETURN NEW; END $$; "
    "CREATE TRIGGER opscheck_fault_sticky_kill_switch BEFORE UPDATE ON system_settings "
    "FOR EACH ROW EXECUTE FUNCTION opscheck_fault_sticky_kill_switch()"
)

FAULTS: tuple[Fault, ...] = (
    Fault(
        "policy_decision_contradicts_inputs",
        "4.1.1",
        "the audit log holds an ALLOW taken with the kill switch on",
        run_sql(FORGED_DECISION),
    ),
    Fault("kill_switch_left_on", "4.4.1", "a previous session left the kill switch ACTIVE", run_sql(LEFT_ON)),
    Fault(
        "row_hash_rejects_circuit_breaker_events",
        "4.4.2",
        "compute_row_hash rejects circuit_breaker_events (TRADE_BOT migration 026): no MANUAL_LOCK event",
        run_sql(ROW_HASH_REJECTS_EVENTS),
    ),
    Fault(
        "bot_records_no_decisions",
        "4.4.3",
        "the bot records no policy decisions (the real bot never writes policy_decision_audit)",
        run_sql(NO_DECISIONS),
    ),
    Fault(
        "webhook_accepts_signal_despite_kill_switch",
        "4.4.4",
        "the webhook decides signals as if the kill switch were off",
        knob("bot", webhook_ignores_kill_switch=True),
    ),
    Fault(
        "bot_ignores_kill_switch",
        "4.4.3",
        "the bot's policy loop never sees the kill switch",
        knob("bot", ignore_kill_switch=True),
    ),
    Fault(
        "order_despite_halt",
        "4.4.4",
        "the bot rejects the signal but still sends the order to VALR",
        knob("bot", order_despite_halt=True),
    ),
    Fault(
        "kill_switch_sticky",
        "4.4.5",
        "a database trigger silently keeps the kill switch ACTIVE",
        run_sql(STICKY_KILL_SWITCH),
    ),
    Fault(
        "halt_latched",
        "4.4.6",
        "the bot stays HALTed after the kill switch is released",
        knob("bot", latch_kill_switch=True),
    ),
    Fault(
        "kill_switch_slow",
        "4.5.1",
        "the bot notices the kill switch only after 1.5 s",
        knob("bot", kill_switch_delay_s=1.5),
    ),
)
