-- TRADE_BOT v1.9.0: grants of migrations 004, 006-012, 022-026 (app_trading, aura_readonly).

GRANT USAGE ON SCHEMA public TO app_trading;

GRANT USAGE ON SCHEMA public TO aura_readonly;

GRANT ALL ON FUNCTION public.get_genesis_hash() TO app_trading;

GRANT ALL ON FUNCTION public.verify_chain_integrity(table_name text) TO app_trading;

GRANT SELECT,INSERT ON TABLE public.ai_debates TO app_trading;

GRANT SELECT,USAGE ON SEQUENCE public.ai_debates_id_seq TO app_trading;

GRANT SELECT,INSERT ON TABLE public.audit_log TO app_trading;

GRANT SELECT,INSERT ON TABLE public.circuit_breaker_events TO app_trading;

GRANT SELECT ON TABLE public.circuit_breaker_events TO aura_readonly;

GRANT SELECT,USAGE ON SEQUENCE public.circuit_breaker_events_id_seq TO app_trading;

GRANT SELECT,INSERT ON TABLE public.deep_link_tokens TO app_trading;

GRANT UPDATE(used_at) ON TABLE public.deep_link_tokens TO app_trading;

GRANT UPDATE(row_hash) ON TABLE public.deep_link_tokens TO app_trading;

GRANT SELECT,INSERT ON TABLE public.hitl_approvals TO app_trading;

GRANT UPDATE(status) ON TABLE public.hitl_approvals TO app_trading;

GRANT UPDATE(decided_at) ON TABLE public.hitl_approvals TO app_trading;

GRANT UPDATE(decided_by) ON TABLE public.hitl_approvals TO app_trading;

GRANT UPDATE(decision_channel) ON TABLE public.hitl_approvals TO app_trading;

GRANT UPDATE(decision_reason) ON TABLE public.hitl_approvals TO app_trading;

GRANT UPDATE(row_hash) ON TABLE public.hitl_approvals TO app_trading;

GRANT SELECT,INSERT ON TABLE public.order_events TO app_trading;

GRANT SELECT,USAGE ON SEQUENCE public.order_events_id_seq TO app_trading;

GRANT SELECT,INSERT ON TABLE public.order_execution TO app_trading;

GRANT SELECT,USAGE ON SEQUENCE public.order_execution_id_seq TO app_trading;

GRANT SELECT,INSERT ON TABLE public.post_trade_snapshots TO app_trading;

GRANT SELECT,INSERT ON TABLE public.risk_assessments TO app_trading;

GRANT SELECT ON TABLE public.risk_assessments TO aura_readonly;

GRANT SELECT,USAGE ON SEQUENCE public.risk_assessments_id_seq TO app_trading;

GRANT SELECT,INSERT ON TABLE public.signals TO app_trading;

GRANT SELECT ON TABLE public.signals TO aura_readonly;

GRANT SELECT,USAGE ON SEQUENCE public.signals_id_seq TO app_trading;

GRANT SELECT,INSERT ON TABLE public.strategy_decisions TO app_trading;

GRANT SELECT,USAGE ON SEQUENCE public.strategy_decisions_id_seq TO app_trading;

GRANT SELECT,UPDATE ON TABLE public.system_settings TO app_trading;

GRANT SELECT ON TABLE public.system_settings TO aura_readonly;

GRANT SELECT,USAGE ON SEQUENCE public.system_settings_id_seq TO app_trading;

GRANT SELECT,INSERT ON TABLE public.trade_lifecycle TO app_trading;

GRANT UPDATE(current_state) ON TABLE public.trade_lifecycle TO app_trading;

GRANT UPDATE(updated_at) ON TABLE public.trade_lifecycle TO app_trading;

GRANT SELECT,USAGE ON SEQUENCE public.trade_lifecycle_id_seq TO app_trading;

GRANT SELECT,INSERT ON TABLE public.trade_state_transitions TO app_trading;

GRANT SELECT,USAGE ON SEQUENCE public.trade_state_transitions_id_seq TO app_trading;

GRANT SELECT,INSERT ON TABLE public.trading_orders TO app_trading;

GRANT SELECT ON TABLE public.trading_orders TO aura_readonly;

GRANT SELECT,USAGE ON SEQUENCE public.trading_orders_id_seq TO app_trading;

GRANT SELECT ON TABLE public.vw_kill_switch_events TO app_trading;
