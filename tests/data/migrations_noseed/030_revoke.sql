-- Applies cleanly, but the bot's role loses what the runbook's commands need (as TRADE_BOT's migration 021 does).
REVOKE ALL ON policy_decision_audit FROM app_trading;
