GRANT SELECT, UPDATE ON system_settings TO app_trading;
GRANT SELECT, INSERT ON policy_decision_audit, signals, trading_orders, circuit_breaker_events TO app_trading;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO app_trading;
