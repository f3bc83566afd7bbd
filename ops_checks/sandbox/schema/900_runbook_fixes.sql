-- The sandbox is "TRADE_BOT, fixed to match its runbook". These are the only places where it departs from the
-- bot's migrations 001-026, each because the runbook relies on something the migrations do not give:
--  1. compute_row_hash (010_functions.sql) chains circuit_breaker_events; the bot's last definition rejects it.
--  2. Runbook 1.1.4, 4.3 and 7.3 read policy_decision_audit as app_trading, and the bot writes its decisions
--     through that role; migration 021 grants app_trading nothing on it.
GRANT SELECT, INSERT ON TABLE public.policy_decision_audit TO app_trading;
GRANT SELECT, USAGE ON SEQUENCE public.policy_decision_audit_id_seq TO app_trading;
GRANT SELECT ON TABLE public.policy_decision_audit TO aura_readonly;
