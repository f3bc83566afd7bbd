"""Faults for runbook §4 (kill switch): one per item of the §4.3 procedure, §4.5's timing and the §4.1 oracle."""

from __future__ import annotations

from ops_checks.sandbox.faults import Fault, knob, run_sql

FORGED_DECISION = (
    "INSERT INTO policy_decision_audit (correlation_id, policy_decision, reason_code, context_snapshot) VALUES "
    "('LOOP-forged-allow', 'ALLOW', 'ALL_GATES_PASSED', '{\"kill_switch_active\": true, \"budget_signal\": \"ALLOW\", "
    '"health_status": "GREEN", "risk_assessment": "HEALTHY"}\'::jsonb)'
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
        "guardian_accepts_wrong_secret",
        "4.4.2",
        "the guardian API accepts any X-Sovereign-Secret",
        knob("bot", guardian_accept_any_secret=True),
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
