-- TRADE_BOT v1.9.0: primary keys, uniques, CHECKs and foreign keys.

ALTER TABLE ONLY public.ai_debates
    ADD CONSTRAINT ai_debates_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.circuit_breaker_events
    ADD CONSTRAINT circuit_breaker_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.deep_link_tokens
    ADD CONSTRAINT deep_link_tokens_pkey PRIMARY KEY (token);

ALTER TABLE ONLY public.golden_set_validations
    ADD CONSTRAINT golden_set_validations_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.hitl_approvals
    ADD CONSTRAINT hitl_approvals_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.hitl_approvals
    ADD CONSTRAINT hitl_approvals_trade_id_unique UNIQUE (trade_id);

ALTER TABLE ONLY public.market_snapshots
    ADD CONSTRAINT market_snapshots_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.order_events
    ADD CONSTRAINT order_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.order_execution
    ADD CONSTRAINT order_execution_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.policy_decision_audit
    ADD CONSTRAINT policy_decision_audit_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.post_trade_snapshots
    ADD CONSTRAINT post_trade_snapshots_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.reward_governor_state
    ADD CONSTRAINT reward_governor_state_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.risk_assessments
    ADD CONSTRAINT risk_assessments_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.sentiment_cache
    ADD CONSTRAINT sentiment_cache_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.signals
    ADD CONSTRAINT signals_correlation_id_unique UNIQUE (correlation_id);

ALTER TABLE ONLY public.signals
    ADD CONSTRAINT signals_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.signals
    ADD CONSTRAINT signals_signal_id_unique UNIQUE (signal_id);

ALTER TABLE ONLY public.simulation_results
    ADD CONSTRAINT simulation_results_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.slippage_anomaly_history
    ADD CONSTRAINT slippage_anomaly_history_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.strategy_blueprints
    ADD CONSTRAINT strategy_blueprints_fingerprint_key UNIQUE (fingerprint);

ALTER TABLE ONLY public.strategy_blueprints
    ADD CONSTRAINT strategy_blueprints_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.strategy_decisions
    ADD CONSTRAINT strategy_decisions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.strategy_performance_metrics
    ADD CONSTRAINT strategy_performance_metrics_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.symbol_confidence_penalties
    ADD CONSTRAINT symbol_confidence_penalties_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.symbol_confidence_penalties
    ADD CONSTRAINT symbol_confidence_penalties_symbol_key UNIQUE (symbol);

ALTER TABLE ONLY public.system_settings
    ADD CONSTRAINT system_settings_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.trade_learning_events
    ADD CONSTRAINT trade_learning_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.trade_lifecycle
    ADD CONSTRAINT trade_lifecycle_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.trade_lifecycle
    ADD CONSTRAINT trade_lifecycle_trade_id_unique UNIQUE (trade_id);

ALTER TABLE ONLY public.trade_state_transitions
    ADD CONSTRAINT trade_state_transitions_idempotency UNIQUE (trade_id, to_state);

ALTER TABLE ONLY public.trade_state_transitions
    ADD CONSTRAINT trade_state_transitions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.trading_orders
    ADD CONSTRAINT trading_orders_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.reward_governor_state
    ADD CONSTRAINT uq_governor_strategy UNIQUE (strategy_fingerprint);

ALTER TABLE ONLY public.strategy_performance_metrics
    ADD CONSTRAINT uq_strategy_regime UNIQUE (strategy_fingerprint, regime_tag);

ALTER TABLE ONLY public.ai_debates
    ADD CONSTRAINT ai_debates_correlation_id_fk FOREIGN KEY (correlation_id) REFERENCES public.signals(correlation_id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.order_events
    ADD CONSTRAINT order_events_order_execution_id_fk FOREIGN KEY (order_execution_id) REFERENCES public.order_execution(id) ON UPDATE RESTRICT ON DELETE RESTRICT;

ALTER TABLE ONLY public.order_execution
    ADD CONSTRAINT order_execution_correlation_id_fk FOREIGN KEY (correlation_id) REFERENCES public.signals(correlation_id) ON UPDATE RESTRICT ON DELETE RESTRICT;

ALTER TABLE ONLY public.post_trade_snapshots
    ADD CONSTRAINT post_trade_snapshots_approval_fk FOREIGN KEY (approval_id) REFERENCES public.hitl_approvals(id) ON UPDATE RESTRICT ON DELETE RESTRICT;

ALTER TABLE ONLY public.reward_governor_state
    ADD CONSTRAINT reward_governor_state_strategy_fingerprint_fkey FOREIGN KEY (strategy_fingerprint) REFERENCES public.strategy_blueprints(fingerprint) ON DELETE CASCADE;

ALTER TABLE ONLY public.risk_assessments
    ADD CONSTRAINT risk_assessments_correlation_id_fk FOREIGN KEY (correlation_id) REFERENCES public.signals(correlation_id) ON DELETE RESTRICT;

ALTER TABLE ONLY public.simulation_results
    ADD CONSTRAINT simulation_results_strategy_fingerprint_fkey FOREIGN KEY (strategy_fingerprint) REFERENCES public.strategy_blueprints(fingerprint) ON DELETE CASCADE;

ALTER TABLE ONLY public.strategy_decisions
    ADD CONSTRAINT strategy_decisions_trade_fk FOREIGN KEY (trade_id) REFERENCES public.trade_lifecycle(trade_id) ON UPDATE RESTRICT ON DELETE RESTRICT;

ALTER TABLE ONLY public.strategy_performance_metrics
    ADD CONSTRAINT strategy_performance_metrics_strategy_fingerprint_fkey FOREIGN KEY (strategy_fingerprint) REFERENCES public.strategy_blueprints(fingerprint) ON DELETE CASCADE;

ALTER TABLE ONLY public.trade_state_transitions
    ADD CONSTRAINT trade_state_transitions_trade_fk FOREIGN KEY (trade_id) REFERENCES public.trade_lifecycle(trade_id) ON UPDATE RESTRICT ON DELETE RESTRICT;

ALTER TABLE ONLY public.trading_orders
    ADD CONSTRAINT trading_orders_correlation_id_fk FOREIGN KEY (correlation_id) REFERENCES public.signals(correlation_id) ON DELETE RESTRICT;
