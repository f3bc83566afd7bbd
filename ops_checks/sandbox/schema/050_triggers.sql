-- TRADE_BOT v1.9.0: immutability, row-hash, decimal-validation and state-machine triggers.

CREATE TRIGGER trg_01_validate_decimal_order_events BEFORE INSERT ON public.order_events FOR EACH ROW EXECUTE FUNCTION public.validate_decimal_input();

CREATE TRIGGER trg_01_validate_decimal_order_execution BEFORE INSERT ON public.order_execution FOR EACH ROW EXECUTE FUNCTION public.validate_decimal_input();

CREATE TRIGGER trg_01_validate_decimal_signals BEFORE INSERT ON public.signals FOR EACH ROW EXECUTE FUNCTION public.validate_decimal_input();

CREATE TRIGGER trg_02_compute_hash_order_events BEFORE INSERT ON public.order_events FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_02_compute_hash_order_execution BEFORE INSERT ON public.order_execution FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_02_compute_hash_signals BEFORE INSERT ON public.signals FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_03_prevent_update_order_events BEFORE UPDATE ON public.order_events FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_03_prevent_update_order_execution BEFORE UPDATE ON public.order_execution FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_03_prevent_update_signals BEFORE UPDATE ON public.signals FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_04_prevent_delete_order_events BEFORE DELETE ON public.order_events FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_04_prevent_delete_order_execution BEFORE DELETE ON public.order_execution FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_04_prevent_delete_signals BEFORE DELETE ON public.signals FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_ai_debates_compute_hash BEFORE INSERT ON public.ai_debates FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_ai_debates_prevent_delete BEFORE DELETE ON public.ai_debates FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_ai_debates_prevent_update BEFORE UPDATE ON public.ai_debates FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_audit_log_hash BEFORE INSERT ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_audit_log_no_delete BEFORE DELETE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_audit_log_no_update BEFORE UPDATE ON public.audit_log FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_circuit_breaker_events_compute_hash BEFORE INSERT ON public.circuit_breaker_events FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_circuit_breaker_events_prevent_delete BEFORE DELETE ON public.circuit_breaker_events FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_circuit_breaker_events_prevent_update BEFORE UPDATE ON public.circuit_breaker_events FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_deep_link_tokens_hash BEFORE INSERT ON public.deep_link_tokens FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_deep_link_tokens_hash_update BEFORE UPDATE ON public.deep_link_tokens FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_deep_link_tokens_no_delete BEFORE DELETE ON public.deep_link_tokens FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_hitl_approvals_hash BEFORE INSERT ON public.hitl_approvals FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_hitl_approvals_hash_update BEFORE UPDATE ON public.hitl_approvals FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_hitl_approvals_no_delete BEFORE DELETE ON public.hitl_approvals FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_policy_decision_audit_hash BEFORE INSERT ON public.policy_decision_audit FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_policy_decision_audit_no_delete BEFORE DELETE ON public.policy_decision_audit FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_policy_decision_audit_no_update BEFORE UPDATE ON public.policy_decision_audit FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_post_trade_snapshots_hash BEFORE INSERT ON public.post_trade_snapshots FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_post_trade_snapshots_no_delete BEFORE DELETE ON public.post_trade_snapshots FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_post_trade_snapshots_no_update BEFORE UPDATE ON public.post_trade_snapshots FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_risk_assessments_compute_hash BEFORE INSERT ON public.risk_assessments FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_risk_assessments_prevent_delete BEFORE DELETE ON public.risk_assessments FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_risk_assessments_prevent_update BEFORE UPDATE ON public.risk_assessments FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_strategy_decisions_hash BEFORE INSERT ON public.strategy_decisions FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_strategy_decisions_no_delete BEFORE DELETE ON public.strategy_decisions FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_strategy_decisions_no_update BEFORE UPDATE ON public.strategy_decisions FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_system_settings_updated_at BEFORE UPDATE ON public.system_settings FOR EACH ROW EXECUTE FUNCTION public.update_system_settings_timestamp();

CREATE TRIGGER trg_trade_lifecycle_hash BEFORE INSERT ON public.trade_lifecycle FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_trade_lifecycle_no_delete BEFORE DELETE ON public.trade_lifecycle FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_trade_state_transitions_hash BEFORE INSERT ON public.trade_state_transitions FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_trade_state_transitions_no_delete BEFORE DELETE ON public.trade_state_transitions FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_trade_state_transitions_no_update BEFORE UPDATE ON public.trade_state_transitions FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trg_trade_state_transitions_update_state AFTER INSERT ON public.trade_state_transitions FOR EACH ROW EXECUTE FUNCTION public.update_trade_lifecycle_state();

CREATE TRIGGER trg_trade_state_transitions_validate BEFORE INSERT ON public.trade_state_transitions FOR EACH ROW EXECUTE FUNCTION public.validate_state_transition();

CREATE TRIGGER trg_trading_orders_compute_hash BEFORE INSERT ON public.trading_orders FOR EACH ROW EXECUTE FUNCTION public.compute_row_hash();

CREATE TRIGGER trg_trading_orders_prevent_delete BEFORE DELETE ON public.trading_orders FOR EACH ROW EXECUTE FUNCTION public.prevent_delete();

CREATE TRIGGER trg_trading_orders_prevent_update BEFORE UPDATE ON public.trading_orders FOR EACH ROW EXECUTE FUNCTION public.prevent_update();

CREATE TRIGGER trigger_prevent_dsl_json_update BEFORE UPDATE ON public.strategy_blueprints FOR EACH ROW EXECUTE FUNCTION public.prevent_dsl_json_update();
