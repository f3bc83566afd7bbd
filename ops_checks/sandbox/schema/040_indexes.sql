-- TRADE_BOT v1.9.0: indexes.

CREATE INDEX idx_ai_debates_consensus_score ON public.ai_debates USING btree (consensus_score);

CREATE INDEX idx_ai_debates_correlation_id ON public.ai_debates USING btree (correlation_id);

CREATE INDEX idx_ai_debates_created_at ON public.ai_debates USING btree (created_at DESC);

CREATE INDEX idx_ai_debates_final_verdict ON public.ai_debates USING btree (final_verdict);

CREATE INDEX idx_audit_action ON public.audit_log USING btree (action, created_at);

CREATE INDEX idx_audit_actor ON public.audit_log USING btree (actor_id, created_at);

CREATE INDEX idx_audit_correlation ON public.audit_log USING btree (correlation_id);

CREATE INDEX idx_audit_created_at ON public.audit_log USING btree (created_at);

CREATE INDEX idx_audit_error_code ON public.audit_log USING btree (error_code) WHERE (error_code IS NOT NULL);

CREATE INDEX idx_audit_target ON public.audit_log USING btree (target_type, target_id);

CREATE INDEX idx_circuit_breaker_events_created ON public.circuit_breaker_events USING btree (created_at DESC);

CREATE INDEX idx_circuit_breaker_events_type ON public.circuit_breaker_events USING btree (event_type);

CREATE INDEX idx_golden_set_validated ON public.golden_set_validations USING btree (validated_at);

CREATE INDEX idx_governor_state_fingerprint ON public.reward_governor_state USING btree (strategy_fingerprint);

CREATE INDEX idx_governor_state_trust ON public.reward_governor_state USING btree (trust_probability);

CREATE INDEX idx_governor_state_updated ON public.reward_governor_state USING btree (last_updated);

CREATE INDEX idx_hitl_correlation ON public.hitl_approvals USING btree (correlation_id);

CREATE INDEX idx_hitl_decided_at ON public.hitl_approvals USING btree (decided_at) WHERE (decided_at IS NOT NULL);

CREATE INDEX idx_hitl_pending ON public.hitl_approvals USING btree (status, expires_at) WHERE ((status)::text = 'AWAITING_APPROVAL'::text);

CREATE INDEX idx_hitl_requested_at ON public.hitl_approvals USING btree (requested_at);

CREATE INDEX idx_hitl_trade ON public.hitl_approvals USING btree (trade_id);

CREATE INDEX idx_market_snapshots_correlation ON public.market_snapshots USING btree (correlation_id) WHERE (correlation_id IS NOT NULL);

CREATE INDEX idx_market_snapshots_pair_created ON public.market_snapshots USING btree (pair, created_at DESC);

CREATE INDEX idx_market_snapshots_stale ON public.market_snapshots USING btree (is_stale) WHERE (is_stale = true);

CREATE INDEX idx_market_snapshots_timestamp ON public.market_snapshots USING btree (timestamp_ms DESC);

CREATE INDEX idx_order_events_created_at ON public.order_events USING btree (created_at);

CREATE INDEX idx_order_events_event_type ON public.order_events USING btree (event_type);

CREATE INDEX idx_order_events_order_execution_id ON public.order_events USING btree (order_execution_id);

CREATE INDEX idx_order_execution_correlation_id ON public.order_execution USING btree (correlation_id);

CREATE INDEX idx_order_execution_created_at ON public.order_execution USING btree (created_at);

CREATE INDEX idx_order_execution_status ON public.order_execution USING btree (status);

CREATE INDEX idx_order_execution_symbol ON public.order_execution USING btree (symbol);

CREATE INDEX idx_perf_metrics_fingerprint ON public.strategy_performance_metrics USING btree (strategy_fingerprint);

CREATE INDEX idx_perf_metrics_regime ON public.strategy_performance_metrics USING btree (regime_tag);

CREATE INDEX idx_perf_metrics_strategy_regime ON public.strategy_performance_metrics USING btree (strategy_fingerprint, regime_tag);

CREATE INDEX idx_perf_metrics_updated ON public.strategy_performance_metrics USING btree (last_updated);

CREATE INDEX idx_perf_metrics_win_rate ON public.strategy_performance_metrics USING btree (win_rate);

CREATE INDEX idx_policy_decision_audit_blocking_gate ON public.policy_decision_audit USING btree (blocking_gate) WHERE (blocking_gate IS NOT NULL);

CREATE INDEX idx_policy_decision_audit_correlation_id ON public.policy_decision_audit USING btree (correlation_id);

CREATE INDEX idx_policy_decision_audit_decision ON public.policy_decision_audit USING btree (policy_decision);

CREATE INDEX idx_policy_decision_audit_decision_timestamp ON public.policy_decision_audit USING btree (policy_decision, timestamp_utc DESC);

CREATE INDEX idx_policy_decision_audit_latched ON public.policy_decision_audit USING btree (is_latched) WHERE (is_latched = true);

CREATE INDEX idx_policy_decision_audit_reason_code ON public.policy_decision_audit USING btree (reason_code);

CREATE INDEX idx_policy_decision_audit_timestamp ON public.policy_decision_audit USING btree (timestamp_utc);

CREATE INDEX idx_risk_assessments_correlation_id ON public.risk_assessments USING btree (correlation_id);

CREATE INDEX idx_risk_assessments_created_at ON public.risk_assessments USING btree (created_at DESC);

CREATE INDEX idx_risk_assessments_status ON public.risk_assessments USING btree (status);

CREATE INDEX idx_sentiment_cache_asset ON public.sentiment_cache USING btree (asset_key);

CREATE INDEX idx_sentiment_cache_asset_expires ON public.sentiment_cache USING btree (asset_key, expires_at);

CREATE INDEX idx_sentiment_cache_correlation ON public.sentiment_cache USING btree (correlation_id);

CREATE INDEX idx_sentiment_cache_expires ON public.sentiment_cache USING btree (expires_at);

CREATE INDEX idx_signals_correlation_id ON public.signals USING btree (correlation_id);

CREATE INDEX idx_signals_created_at ON public.signals USING btree (created_at);

CREATE INDEX idx_signals_symbol ON public.signals USING btree (symbol);

CREATE INDEX idx_simulation_results_correlation ON public.simulation_results USING btree (correlation_id);

CREATE INDEX idx_simulation_results_created ON public.simulation_results USING btree (created_at);

CREATE INDEX idx_simulation_results_date ON public.simulation_results USING btree (simulation_date);

CREATE INDEX idx_simulation_results_fingerprint ON public.simulation_results USING btree (strategy_fingerprint);

CREATE INDEX idx_simulation_results_metrics_gin ON public.simulation_results USING gin (metrics);

CREATE INDEX idx_simulation_results_strategy_date ON public.simulation_results USING btree (strategy_fingerprint, simulation_date);

CREATE INDEX idx_slippage_anomaly_history_anomalies ON public.slippage_anomaly_history USING btree (is_anomaly, symbol) WHERE (is_anomaly = true);

CREATE INDEX idx_slippage_anomaly_history_correlation ON public.slippage_anomaly_history USING btree (correlation_id);

CREATE INDEX idx_slippage_anomaly_history_symbol ON public.slippage_anomaly_history USING btree (symbol, created_at DESC);

CREATE INDEX idx_snapshot_approval ON public.post_trade_snapshots USING btree (approval_id);

CREATE INDEX idx_snapshot_correlation ON public.post_trade_snapshots USING btree (correlation_id);

CREATE INDEX idx_snapshot_created_at ON public.post_trade_snapshots USING btree (created_at);

CREATE INDEX idx_snapshot_deviation ON public.post_trade_snapshots USING btree (price_deviation_pct);

CREATE INDEX idx_strategy_blueprints_confidence ON public.strategy_blueprints USING btree (extraction_confidence);

CREATE INDEX idx_strategy_blueprints_created ON public.strategy_blueprints USING btree (created_at);

CREATE INDEX idx_strategy_blueprints_dsl_gin ON public.strategy_blueprints USING gin (dsl_json);

CREATE INDEX idx_strategy_blueprints_source_url ON public.strategy_blueprints USING btree (source_url);

CREATE INDEX idx_strategy_blueprints_status ON public.strategy_blueprints USING btree (status);

CREATE INDEX idx_strategy_blueprints_strategy_id ON public.strategy_blueprints USING btree (strategy_id);

CREATE INDEX idx_strategy_decisions_action ON public.strategy_decisions USING btree (action);

CREATE INDEX idx_strategy_decisions_correlation_id ON public.strategy_decisions USING btree (correlation_id);

CREATE INDEX idx_strategy_decisions_decided_at ON public.strategy_decisions USING btree (decided_at);

CREATE INDEX idx_strategy_decisions_inputs_hash ON public.strategy_decisions USING btree (inputs_hash);

CREATE INDEX idx_strategy_decisions_trade_id ON public.strategy_decisions USING btree (trade_id);

CREATE INDEX idx_symbol_confidence_penalties_symbol ON public.symbol_confidence_penalties USING btree (symbol);

CREATE INDEX idx_system_settings_id ON public.system_settings USING btree (id);

CREATE INDEX idx_token_correlation ON public.deep_link_tokens USING btree (correlation_id);

CREATE INDEX idx_token_created_at ON public.deep_link_tokens USING btree (created_at);

CREATE INDEX idx_token_expires ON public.deep_link_tokens USING btree (expires_at) WHERE (used_at IS NULL);

CREATE INDEX idx_token_trade_id ON public.deep_link_tokens USING btree (trade_id);

CREATE INDEX idx_token_unused ON public.deep_link_tokens USING btree (token, expires_at) WHERE (used_at IS NULL);

CREATE INDEX idx_trade_learning_correlation ON public.trade_learning_events USING btree (correlation_id);

CREATE INDEX idx_trade_learning_created ON public.trade_learning_events USING btree (created_at);

CREATE INDEX idx_trade_learning_outcome ON public.trade_learning_events USING btree (outcome);

CREATE INDEX idx_trade_learning_prediction ON public.trade_learning_events USING btree (prediction_id);

CREATE INDEX idx_trade_learning_sentiment ON public.trade_learning_events USING btree (sentiment_score);

CREATE INDEX idx_trade_learning_sentiment_outcome ON public.trade_learning_events USING btree (sentiment_score, outcome);

CREATE INDEX idx_trade_learning_strategy_fingerprint ON public.trade_learning_events USING btree (strategy_fingerprint);

CREATE INDEX idx_trade_learning_symbol ON public.trade_learning_events USING btree (symbol);

CREATE INDEX idx_trade_learning_training ON public.trade_learning_events USING btree (outcome, created_at);

CREATE INDEX idx_trade_lifecycle_correlation_id ON public.trade_lifecycle USING btree (correlation_id);

CREATE INDEX idx_trade_lifecycle_created_at ON public.trade_lifecycle USING btree (created_at);

CREATE INDEX idx_trade_lifecycle_current_state ON public.trade_lifecycle USING btree (current_state);

CREATE INDEX idx_trade_lifecycle_trade_id ON public.trade_lifecycle USING btree (trade_id);

CREATE INDEX idx_trade_state_transitions_correlation_id ON public.trade_state_transitions USING btree (correlation_id);

CREATE INDEX idx_trade_state_transitions_to_state ON public.trade_state_transitions USING btree (to_state);

CREATE INDEX idx_trade_state_transitions_trade_id ON public.trade_state_transitions USING btree (trade_id);

CREATE INDEX idx_trade_state_transitions_transitioned_at ON public.trade_state_transitions USING btree (transitioned_at);

CREATE INDEX idx_trading_orders_correlation_id ON public.trading_orders USING btree (correlation_id);

CREATE INDEX idx_trading_orders_created_at ON public.trading_orders USING btree (created_at DESC);

CREATE INDEX idx_trading_orders_execution_mode ON public.trading_orders USING btree (execution_mode);

CREATE INDEX idx_trading_orders_expectancy ON public.trading_orders USING btree (expectancy_value) WHERE (expectancy_value IS NOT NULL);

CREATE INDEX idx_trading_orders_order_id ON public.trading_orders USING btree (order_id);

CREATE INDEX idx_trading_orders_reconciliation ON public.trading_orders USING btree (reconciliation_status) WHERE (reconciliation_status IS NOT NULL);

CREATE INDEX idx_trading_orders_simulated ON public.trading_orders USING btree (is_simulated);

CREATE INDEX idx_trading_orders_slippage ON public.trading_orders USING btree (slippage_pct) WHERE (slippage_pct IS NOT NULL);

CREATE INDEX idx_trading_orders_status ON public.trading_orders USING btree (status);

CREATE INDEX idx_trading_orders_valr_order_id ON public.trading_orders USING btree (valr_order_id) WHERE (valr_order_id IS NOT NULL);
