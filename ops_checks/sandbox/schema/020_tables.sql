-- TRADE_BOT v1.9.0 (migrations 001-026): tables, sequences and column defaults.
-- Facts read off the migrations applied to Postgres 15; written as plain DDL for the sandbox.

CREATE TABLE public.ai_debates (
    id bigint NOT NULL,
    correlation_id uuid NOT NULL,
    bull_reasoning text NOT NULL,
    bear_reasoning text NOT NULL,
    consensus_score integer DEFAULT 0 NOT NULL,
    final_verdict boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    row_hash character(64) NOT NULL,
    CONSTRAINT ai_debates_consensus_score_check CHECK (((consensus_score >= 0) AND (consensus_score <= 100)))
);

CREATE SEQUENCE public.ai_debates_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.ai_debates_id_seq OWNED BY public.ai_debates.id;

CREATE TABLE public.audit_log (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    actor_id character varying(100) NOT NULL,
    action character varying(50) NOT NULL,
    target_type character varying(50) NOT NULL,
    target_id uuid,
    previous_state jsonb,
    new_state jsonb,
    payload jsonb,
    correlation_id uuid NOT NULL,
    error_code character varying(10),
    row_hash character(64) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.circuit_breaker_events (
    id bigint NOT NULL,
    event_type character varying(30) NOT NULL,
    trigger_reason character varying(100) NOT NULL,
    trigger_value character varying(50),
    lockout_duration_hours integer,
    unlock_at timestamp with time zone,
    daily_pnl_zar numeric(28,2),
    daily_pnl_pct numeric(10,6),
    consecutive_losses integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    row_hash character(64) NOT NULL,
    CONSTRAINT circuit_breaker_events_type_check CHECK (((event_type)::text = ANY ((ARRAY['DAILY_LOSS_TRIGGERED'::character varying, 'CONSECUTIVE_LOSS_TRIGGERED'::character varying, 'MANUAL_LOCK'::character varying, 'AUTO_UNLOCK'::character varying, 'MANUAL_UNLOCK'::character varying, 'DAILY_RESET'::character varying])::text[])))
);

CREATE SEQUENCE public.circuit_breaker_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.circuit_breaker_events_id_seq OWNED BY public.circuit_breaker_events.id;

CREATE TABLE public.deep_link_tokens (
    token character varying(64) NOT NULL,
    trade_id uuid NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    correlation_id uuid NOT NULL,
    row_hash character(64) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT deep_link_tokens_expires_after_created CHECK ((expires_at > created_at)),
    CONSTRAINT deep_link_tokens_used_after_created CHECK (((used_at IS NULL) OR (used_at >= created_at)))
);

CREATE TABLE public.golden_set_validations (
    id bigint NOT NULL,
    accuracy numeric(5,4) NOT NULL,
    correct_count integer NOT NULL,
    total_count integer DEFAULT 10 NOT NULL,
    passed boolean NOT NULL,
    safe_mode_triggered boolean DEFAULT false NOT NULL,
    validated_at timestamp with time zone DEFAULT now(),
    model_version text,
    CONSTRAINT golden_set_validations_correct_count_check CHECK (((correct_count >= 0) AND (correct_count <= 10))),
    CONSTRAINT golden_set_validations_total_count_check CHECK ((total_count = 10))
);

CREATE SEQUENCE public.golden_set_validations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.golden_set_validations_id_seq OWNED BY public.golden_set_validations.id;

CREATE TABLE public.hitl_approvals (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    trade_id uuid NOT NULL,
    instrument character varying(20) NOT NULL,
    side character varying(4) NOT NULL,
    risk_pct numeric(5,2) NOT NULL,
    confidence numeric(3,2) NOT NULL,
    request_price numeric(18,8) NOT NULL,
    reasoning_summary jsonb NOT NULL,
    correlation_id uuid NOT NULL,
    status character varying(20) DEFAULT 'AWAITING_APPROVAL'::character varying NOT NULL,
    requested_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    decided_at timestamp with time zone,
    decided_by character varying(100),
    decision_channel character varying(10),
    decision_reason character varying(500),
    row_hash character(64) NOT NULL,
    CONSTRAINT hitl_approvals_confidence_range CHECK (((confidence >= (0)::numeric) AND (confidence <= (1)::numeric))),
    CONSTRAINT hitl_approvals_decision_channel_check CHECK (((decision_channel IS NULL) OR ((decision_channel)::text = ANY ((ARRAY['WEB'::character varying, 'DISCORD'::character varying, 'CLI'::character varying, 'SYSTEM'::character varying])::text[])))),
    CONSTRAINT hitl_approvals_expires_after_request CHECK ((expires_at > requested_at)),
    CONSTRAINT hitl_approvals_price_positive CHECK ((request_price > (0)::numeric)),
    CONSTRAINT hitl_approvals_risk_pct_range CHECK (((risk_pct >= (0)::numeric) AND (risk_pct <= (100)::numeric))),
    CONSTRAINT hitl_approvals_side_check CHECK (((side)::text = ANY ((ARRAY['BUY'::character varying, 'SELL'::character varying])::text[]))),
    CONSTRAINT hitl_approvals_status_check CHECK (((status)::text = ANY ((ARRAY['AWAITING_APPROVAL'::character varying, 'ACCEPTED'::character varying, 'REJECTED'::character varying])::text[])))
);

CREATE TABLE public.market_snapshots (
    id integer NOT NULL,
    pair character varying(20) NOT NULL,
    bid numeric(20,8) NOT NULL,
    ask numeric(20,8) NOT NULL,
    last_price numeric(20,8) NOT NULL,
    volume_24h numeric(20,8) DEFAULT 0 NOT NULL,
    spread_pct numeric(10,4) DEFAULT 0 NOT NULL,
    source character varying(20) DEFAULT 'VALR'::character varying NOT NULL,
    timestamp_ms bigint NOT NULL,
    is_stale boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    correlation_id uuid,
    CONSTRAINT chk_market_snapshots_ask_gte_bid CHECK ((ask >= bid)),
    CONSTRAINT chk_market_snapshots_ask_positive CHECK ((ask >= (0)::numeric)),
    CONSTRAINT chk_market_snapshots_bid_positive CHECK ((bid >= (0)::numeric)),
    CONSTRAINT chk_market_snapshots_spread_positive CHECK ((spread_pct >= (0)::numeric))
);

CREATE SEQUENCE public.market_snapshots_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.market_snapshots_id_seq OWNED BY public.market_snapshots.id;

CREATE TABLE public.order_events (
    id bigint NOT NULL,
    order_execution_id bigint NOT NULL,
    event_type character varying(30) NOT NULL,
    fill_quantity numeric(28,10),
    fill_price numeric(28,10),
    zar_equity numeric(28,2),
    positions_closed jsonb,
    rejection_reason text,
    exchange_error_code character varying(50),
    row_hash character(64) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT order_events_event_type_check CHECK (((event_type)::text = ANY ((ARRAY['FILL'::character varying, 'PARTIAL_FILL'::character varying, 'REJECTED'::character varying, 'CANCELLED'::character varying, 'KILL_SWITCH'::character varying, 'EXPIRED'::character varying])::text[]))),
    CONSTRAINT order_events_fill_price_positive CHECK (((fill_price IS NULL) OR (fill_price > (0)::numeric))),
    CONSTRAINT order_events_fill_quantity_positive CHECK (((fill_quantity IS NULL) OR (fill_quantity > (0)::numeric))),
    CONSTRAINT order_events_zar_equity_positive CHECK (((zar_equity IS NULL) OR (zar_equity >= (0)::numeric)))
);

CREATE SEQUENCE public.order_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.order_events_id_seq OWNED BY public.order_events.id;

CREATE TABLE public.order_execution (
    id bigint NOT NULL,
    correlation_id uuid NOT NULL,
    order_type character varying(20) NOT NULL,
    symbol character varying(20) NOT NULL,
    side character varying(10) NOT NULL,
    quantity numeric(28,10) NOT NULL,
    price numeric(28,10),
    exchange_order_id character varying(64),
    status character varying(20) NOT NULL,
    row_hash character(64) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT order_execution_order_type_check CHECK (((order_type)::text = ANY ((ARRAY['MARKET'::character varying, 'LIMIT'::character varying, 'STOP'::character varying, 'STOP_LIMIT'::character varying])::text[]))),
    CONSTRAINT order_execution_price_positive CHECK (((price IS NULL) OR (price > (0)::numeric))),
    CONSTRAINT order_execution_quantity_positive CHECK ((quantity > (0)::numeric)),
    CONSTRAINT order_execution_side_check CHECK (((side)::text = ANY ((ARRAY['BUY'::character varying, 'SELL'::character varying])::text[]))),
    CONSTRAINT order_execution_status_check CHECK (((status)::text = ANY ((ARRAY['PENDING'::character varying, 'SUBMITTED'::character varying, 'FILLED'::character varying, 'PARTIAL'::character varying, 'REJECTED'::character varying, 'CANCELLED'::character varying])::text[])))
);

CREATE SEQUENCE public.order_execution_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.order_execution_id_seq OWNED BY public.order_execution.id;

CREATE TABLE public.policy_decision_audit (
    id bigint NOT NULL,
    correlation_id uuid NOT NULL,
    timestamp_utc timestamp with time zone DEFAULT now() NOT NULL,
    policy_decision character varying(10) NOT NULL,
    reason_code character varying(50) NOT NULL,
    blocking_gate character varying(20),
    precedence_rank integer,
    context_snapshot jsonb NOT NULL,
    ai_confidence numeric(5,4),
    is_latched boolean DEFAULT false NOT NULL,
    row_hash character(64) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT policy_decision_audit_ai_confidence_range CHECK (((ai_confidence IS NULL) OR ((ai_confidence >= (0)::numeric) AND (ai_confidence <= (1)::numeric)))),
    CONSTRAINT policy_decision_audit_blocking_gate_check CHECK (((((policy_decision)::text = 'ALLOW'::text) AND (blocking_gate IS NULL)) OR (((policy_decision)::text <> 'ALLOW'::text) AND (blocking_gate IS NOT NULL)))),
    CONSTRAINT policy_decision_audit_decision_check CHECK (((policy_decision)::text = ANY ((ARRAY['ALLOW'::character varying, 'NEUTRAL'::character varying, 'HALT'::character varying])::text[]))),
    CONSTRAINT policy_decision_audit_precedence_rank_check CHECK (((((policy_decision)::text = 'ALLOW'::text) AND (precedence_rank IS NULL)) OR (((policy_decision)::text <> 'ALLOW'::text) AND ((precedence_rank >= 1) AND (precedence_rank <= 4))))),
    CONSTRAINT policy_decision_audit_reason_code_check CHECK (((reason_code)::text = ANY ((ARRAY['ALLOW_ALL_GATES_PASSED'::character varying, 'HALT_KILL_SWITCH'::character varying, 'HALT_BUDGET_HARD_STOP'::character varying, 'HALT_BUDGET_RDS_EXCEEDED'::character varying, 'HALT_BUDGET_STALE_DATA'::character varying, 'HALT_RISK_CRITICAL'::character varying, 'NEUTRAL_HEALTH_YELLOW'::character varying, 'NEUTRAL_HEALTH_RED'::character varying, 'HALT_LATCHED'::character varying, 'HALT_CONTEXT_INCOMPLETE'::character varying])::text[])))
);

CREATE SEQUENCE public.policy_decision_audit_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.policy_decision_audit_id_seq OWNED BY public.policy_decision_audit.id;

CREATE TABLE public.post_trade_snapshots (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    approval_id uuid NOT NULL,
    bid numeric(18,8) NOT NULL,
    ask numeric(18,8) NOT NULL,
    spread numeric(18,8) NOT NULL,
    mid_price numeric(18,8) NOT NULL,
    response_latency_ms integer NOT NULL,
    price_deviation_pct numeric(6,4) NOT NULL,
    correlation_id uuid NOT NULL,
    row_hash character(64) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT post_trade_snapshots_ask_gte_bid CHECK ((ask >= bid)),
    CONSTRAINT post_trade_snapshots_ask_positive CHECK ((ask > (0)::numeric)),
    CONSTRAINT post_trade_snapshots_bid_positive CHECK ((bid > (0)::numeric)),
    CONSTRAINT post_trade_snapshots_latency_non_negative CHECK ((response_latency_ms >= 0)),
    CONSTRAINT post_trade_snapshots_mid_price_positive CHECK ((mid_price > (0)::numeric)),
    CONSTRAINT post_trade_snapshots_spread_non_negative CHECK ((spread >= (0)::numeric))
);

CREATE TABLE public.reward_governor_state (
    id bigint NOT NULL,
    strategy_fingerprint text NOT NULL,
    trust_probability numeric(5,4) NOT NULL,
    model_version text,
    training_sample_count integer DEFAULT 0 NOT NULL,
    safe_mode_active boolean DEFAULT false NOT NULL,
    last_updated timestamp with time zone DEFAULT now(),
    created_at timestamp with time zone DEFAULT now(),
    CONSTRAINT reward_governor_state_training_sample_count_check CHECK ((training_sample_count >= 0)),
    CONSTRAINT reward_governor_state_trust_probability_check CHECK (((trust_probability >= (0)::numeric) AND (trust_probability <= (1)::numeric)))
);

CREATE SEQUENCE public.reward_governor_state_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.reward_governor_state_id_seq OWNED BY public.reward_governor_state.id;

CREATE TABLE public.risk_assessments (
    id bigint NOT NULL,
    correlation_id uuid NOT NULL,
    equity numeric(28,2) NOT NULL,
    signal_price numeric(28,10) NOT NULL,
    risk_percentage numeric(5,4) DEFAULT 0.0100 NOT NULL,
    risk_amount_zar numeric(28,10) NOT NULL,
    calculated_quantity numeric(28,10) NOT NULL,
    status character varying(20) DEFAULT 'APPROVED'::character varying NOT NULL,
    rejection_reason character varying(255),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    row_hash character(64) NOT NULL,
    CONSTRAINT risk_assessments_calculated_quantity_check CHECK ((calculated_quantity >= (0)::numeric)),
    CONSTRAINT risk_assessments_risk_percentage_check CHECK (((risk_percentage > (0)::numeric) AND (risk_percentage <= (1)::numeric))),
    CONSTRAINT risk_assessments_status_check CHECK (((status)::text = ANY ((ARRAY['APPROVED'::character varying, 'REJECTED'::character varying, 'PENDING'::character varying])::text[])))
);

CREATE SEQUENCE public.risk_assessments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.risk_assessments_id_seq OWNED BY public.risk_assessments.id;

CREATE TABLE public.sentiment_cache (
    id bigint NOT NULL,
    asset_key text NOT NULL,
    sentiment_score numeric(5,4) NOT NULL,
    positive_count integer DEFAULT 0 NOT NULL,
    negative_count integer DEFAULT 0 NOT NULL,
    total_snippets integer DEFAULT 0 NOT NULL,
    source_type text NOT NULL,
    fetched_at timestamp with time zone DEFAULT now(),
    expires_at timestamp with time zone NOT NULL,
    correlation_id uuid NOT NULL,
    CONSTRAINT sentiment_cache_negative_count_check CHECK ((negative_count >= 0)),
    CONSTRAINT sentiment_cache_positive_count_check CHECK ((positive_count >= 0)),
    CONSTRAINT sentiment_cache_sentiment_score_check CHECK (((sentiment_score >= ('-1'::integer)::numeric) AND (sentiment_score <= (1)::numeric))),
    CONSTRAINT sentiment_cache_source_type_check CHECK ((source_type = ANY (ARRAY['NEWS'::text, 'IDEAS'::text, 'COMBINED'::text]))),
    CONSTRAINT sentiment_cache_total_snippets_check CHECK ((total_snippets >= 0))
);

CREATE SEQUENCE public.sentiment_cache_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.sentiment_cache_id_seq OWNED BY public.sentiment_cache.id;

CREATE TABLE public.signals (
    id bigint NOT NULL,
    correlation_id uuid DEFAULT gen_random_uuid() NOT NULL,
    signal_id character varying(64) NOT NULL,
    symbol character varying(20) NOT NULL,
    side character varying(10) NOT NULL,
    price numeric(28,10) NOT NULL,
    quantity numeric(28,10) NOT NULL,
    raw_payload jsonb NOT NULL,
    source_ip inet NOT NULL,
    hmac_verified boolean DEFAULT false NOT NULL,
    row_hash character(64) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT signals_price_positive CHECK ((price > (0)::numeric)),
    CONSTRAINT signals_quantity_positive CHECK ((quantity > (0)::numeric)),
    CONSTRAINT signals_side_check CHECK (((side)::text = ANY ((ARRAY['BUY'::character varying, 'SELL'::character varying])::text[])))
);

CREATE SEQUENCE public.signals_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.signals_id_seq OWNED BY public.signals.id;

CREATE TABLE public.simulation_results (
    id bigint NOT NULL,
    strategy_fingerprint text NOT NULL,
    simulation_date timestamp with time zone NOT NULL,
    simulation_start date NOT NULL,
    simulation_end date NOT NULL,
    trade_outcomes jsonb NOT NULL,
    metrics jsonb NOT NULL,
    correlation_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now()
);

CREATE SEQUENCE public.simulation_results_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.simulation_results_id_seq OWNED BY public.simulation_results.id;

CREATE TABLE public.slippage_anomaly_history (
    id integer NOT NULL,
    correlation_id uuid NOT NULL,
    symbol character varying(20) NOT NULL,
    side character varying(10) NOT NULL,
    planned_price numeric(20,8) NOT NULL,
    realized_price numeric(20,8) NOT NULL,
    planned_slippage_pct numeric(10,4) NOT NULL,
    realized_slippage_pct numeric(10,4) NOT NULL,
    anomaly_ratio numeric(10,2) NOT NULL,
    is_anomaly boolean DEFAULT false NOT NULL,
    confidence_penalty numeric(5,4) DEFAULT 0,
    cumulative_penalty numeric(5,4) DEFAULT 0,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    row_hash character(64)
);

CREATE SEQUENCE public.slippage_anomaly_history_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.slippage_anomaly_history_id_seq OWNED BY public.slippage_anomaly_history.id;

CREATE TABLE public.strategy_blueprints (
    id bigint NOT NULL,
    fingerprint text NOT NULL,
    strategy_id text NOT NULL,
    title text NOT NULL,
    author text,
    source_url text NOT NULL,
    dsl_json jsonb NOT NULL,
    extraction_confidence numeric(5,4) NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now(),
    updated_at timestamp with time zone DEFAULT now(),
    CONSTRAINT strategy_blueprints_extraction_confidence_check CHECK (((extraction_confidence >= (0)::numeric) AND (extraction_confidence <= (1)::numeric))),
    CONSTRAINT strategy_blueprints_status_check CHECK ((status = ANY (ARRAY['active'::text, 'quarantine'::text, 'archived'::text])))
);

CREATE SEQUENCE public.strategy_blueprints_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.strategy_blueprints_id_seq OWNED BY public.strategy_blueprints.id;

CREATE TABLE public.strategy_decisions (
    id bigint NOT NULL,
    trade_id uuid NOT NULL,
    correlation_id uuid NOT NULL,
    inputs_hash character(64) NOT NULL,
    outputs_hash character(64) NOT NULL,
    action character varying(10) NOT NULL,
    signal_confidence numeric(5,4) NOT NULL,
    row_hash character(64) NOT NULL,
    decided_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT strategy_decisions_action_check CHECK (((action)::text = ANY ((ARRAY['BUY'::character varying, 'SELL'::character varying, 'HOLD'::character varying])::text[]))),
    CONSTRAINT strategy_decisions_confidence_range CHECK (((signal_confidence >= (0)::numeric) AND (signal_confidence <= (1)::numeric)))
);

CREATE SEQUENCE public.strategy_decisions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.strategy_decisions_id_seq OWNED BY public.strategy_decisions.id;

CREATE TABLE public.strategy_performance_metrics (
    id bigint NOT NULL,
    strategy_fingerprint text NOT NULL,
    regime_tag text NOT NULL,
    win_rate numeric(12,4) NOT NULL,
    profit_factor numeric(12,4),
    max_drawdown numeric(12,4) NOT NULL,
    sample_size integer NOT NULL,
    last_updated timestamp with time zone DEFAULT now(),
    created_at timestamp with time zone DEFAULT now(),
    CONSTRAINT strategy_performance_metrics_max_drawdown_check CHECK (((max_drawdown >= (0)::numeric) AND (max_drawdown <= (1)::numeric))),
    CONSTRAINT strategy_performance_metrics_profit_factor_check CHECK (((profit_factor IS NULL) OR (profit_factor >= (0)::numeric))),
    CONSTRAINT strategy_performance_metrics_regime_tag_check CHECK ((regime_tag = ANY (ARRAY['TREND_UP'::text, 'TREND_DOWN'::text, 'RANGING'::text, 'HIGH_VOLATILITY'::text, 'LOW_VOLATILITY'::text]))),
    CONSTRAINT strategy_performance_metrics_sample_size_check CHECK ((sample_size >= 0)),
    CONSTRAINT strategy_performance_metrics_win_rate_check CHECK (((win_rate >= (0)::numeric) AND (win_rate <= (1)::numeric)))
);

CREATE SEQUENCE public.strategy_performance_metrics_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.strategy_performance_metrics_id_seq OWNED BY public.strategy_performance_metrics.id;

CREATE TABLE public.symbol_confidence_penalties (
    id integer NOT NULL,
    symbol character varying(20) NOT NULL,
    cumulative_penalty numeric(5,4) DEFAULT 0 NOT NULL,
    anomaly_count integer DEFAULT 0 NOT NULL,
    last_anomaly_correlation_id uuid,
    last_anomaly_at timestamp with time zone,
    last_decay_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE SEQUENCE public.symbol_confidence_penalties_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.symbol_confidence_penalties_id_seq OWNED BY public.symbol_confidence_penalties.id;

CREATE TABLE public.system_settings (
    id integer NOT NULL,
    system_active boolean DEFAULT true NOT NULL,
    kill_switch_reason character varying(500),
    kill_switch_triggered_at timestamp with time zone,
    kill_switch_triggered_by character varying(100),
    min_trade_zar numeric(28,2) DEFAULT 50.00 NOT NULL,
    max_slippage_percent numeric(5,4) DEFAULT 0.0100 NOT NULL,
    taker_fee_percent numeric(5,4) DEFAULT 0.0010 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    daily_pnl_zar numeric(28,2) DEFAULT 0.00,
    daily_pnl_pct numeric(10,6) DEFAULT 0.000000,
    daily_pnl_reset_at timestamp with time zone DEFAULT now(),
    consecutive_losses integer DEFAULT 0,
    last_trade_result character varying(10),
    circuit_breaker_active boolean DEFAULT false,
    circuit_breaker_reason character varying(100),
    circuit_breaker_triggered_at timestamp with time zone,
    circuit_breaker_unlock_at timestamp with time zone,
    daily_loss_limit_pct numeric(5,4) DEFAULT 0.0300,
    max_consecutive_losses integer DEFAULT 3,
    daily_loss_lockout_hours integer DEFAULT 24,
    consecutive_loss_lockout_hours integer DEFAULT 12,
    daily_starting_equity_zar numeric(28,2),
    is_trading_enabled boolean DEFAULT true NOT NULL,
    global_kill_switch boolean DEFAULT false NOT NULL,
    circuit_breaker_expires_at timestamp with time zone,
    CONSTRAINT single_settings_row CHECK ((id = 1))
);

CREATE SEQUENCE public.system_settings_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.system_settings_id_seq OWNED BY public.system_settings.id;

CREATE TABLE public.trade_learning_events (
    id bigint NOT NULL,
    correlation_id uuid NOT NULL,
    prediction_id text NOT NULL,
    symbol text NOT NULL,
    side text NOT NULL,
    timeframe text,
    atr_pct numeric(6,3),
    volatility_regime text,
    trend_state text,
    spread_pct numeric(6,4),
    volume_ratio numeric(6,3),
    llm_confidence numeric(5,2),
    consensus_score integer,
    pnl_zar numeric(12,2),
    max_drawdown numeric(6,3),
    outcome text NOT NULL,
    created_at timestamp with time zone DEFAULT now(),
    strategy_fingerprint text,
    sentiment_score numeric(5,4),
    CONSTRAINT trade_learning_events_consensus_score_check CHECK (((consensus_score >= 0) AND (consensus_score <= 100))),
    CONSTRAINT trade_learning_events_outcome_check CHECK ((outcome = ANY (ARRAY['WIN'::text, 'LOSS'::text, 'BREAKEVEN'::text]))),
    CONSTRAINT trade_learning_events_sentiment_score_check CHECK (((sentiment_score IS NULL) OR ((sentiment_score >= ('-1'::integer)::numeric) AND (sentiment_score <= (1)::numeric)))),
    CONSTRAINT trade_learning_events_side_check CHECK ((side = ANY (ARRAY['BUY'::text, 'SELL'::text]))),
    CONSTRAINT trade_learning_events_trend_state_check CHECK ((trend_state = ANY (ARRAY['STRONG_UP'::text, 'UP'::text, 'NEUTRAL'::text, 'DOWN'::text, 'STRONG_DOWN'::text]))),
    CONSTRAINT trade_learning_events_volatility_regime_check CHECK ((volatility_regime = ANY (ARRAY['LOW'::text, 'MEDIUM'::text, 'HIGH'::text, 'EXTREME'::text])))
);

CREATE SEQUENCE public.trade_learning_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.trade_learning_events_id_seq OWNED BY public.trade_learning_events.id;

CREATE TABLE public.trade_lifecycle (
    id bigint NOT NULL,
    trade_id uuid NOT NULL,
    correlation_id uuid NOT NULL,
    current_state character varying(20) DEFAULT 'PENDING'::character varying NOT NULL,
    signal_data jsonb NOT NULL,
    row_hash character(64) NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT trade_lifecycle_state_check CHECK (((current_state)::text = ANY ((ARRAY['PENDING'::character varying, 'ACCEPTED'::character varying, 'FILLED'::character varying, 'CLOSED'::character varying, 'SETTLED'::character varying, 'REJECTED'::character varying])::text[])))
);

CREATE SEQUENCE public.trade_lifecycle_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.trade_lifecycle_id_seq OWNED BY public.trade_lifecycle.id;

CREATE TABLE public.trade_state_transitions (
    id bigint NOT NULL,
    trade_id uuid NOT NULL,
    from_state character varying(20) NOT NULL,
    to_state character varying(20) NOT NULL,
    correlation_id uuid NOT NULL,
    row_hash character(64) NOT NULL,
    transitioned_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT trade_state_transitions_from_state_check CHECK (((from_state)::text = ANY ((ARRAY['PENDING'::character varying, 'ACCEPTED'::character varying, 'FILLED'::character varying, 'CLOSED'::character varying, 'SETTLED'::character varying, 'REJECTED'::character varying])::text[]))),
    CONSTRAINT trade_state_transitions_to_state_check CHECK (((to_state)::text = ANY ((ARRAY['PENDING'::character varying, 'ACCEPTED'::character varying, 'FILLED'::character varying, 'CLOSED'::character varying, 'SETTLED'::character varying, 'REJECTED'::character varying])::text[])))
);

CREATE SEQUENCE public.trade_state_transitions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.trade_state_transitions_id_seq OWNED BY public.trade_state_transitions.id;

CREATE TABLE public.trading_orders (
    id bigint NOT NULL,
    correlation_id uuid NOT NULL,
    order_id character varying(100) NOT NULL,
    pair character varying(20) NOT NULL,
    side character varying(10) NOT NULL,
    quantity numeric(28,10) NOT NULL,
    execution_price numeric(28,10),
    zar_value numeric(28,2),
    status character varying(20) DEFAULT 'PLACED'::character varying NOT NULL,
    is_mock boolean DEFAULT false NOT NULL,
    error_message character varying(500),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    row_hash character(64) NOT NULL,
    requested_price numeric(28,10),
    planned_risk_zar numeric(28,2),
    avg_fill_price numeric(28,10),
    filled_qty numeric(28,10),
    slippage_pct numeric(10,6),
    realized_pnl_zar numeric(28,2),
    realized_risk_zar numeric(28,2),
    expectancy_value numeric(10,4),
    reconciliation_status character varying(30),
    execution_time_ms integer,
    is_simulated boolean DEFAULT false NOT NULL,
    execution_mode character varying(20) DEFAULT 'DRY_RUN'::character varying NOT NULL,
    valr_order_id character varying(64),
    valr_response jsonb,
    CONSTRAINT chk_trading_orders_execution_mode CHECK (((execution_mode)::text = ANY ((ARRAY['DRY_RUN'::character varying, 'LIVE'::character varying])::text[]))),
    CONSTRAINT trading_orders_quantity_check CHECK ((quantity > (0)::numeric)),
    CONSTRAINT trading_orders_reconciliation_status_check CHECK (((reconciliation_status IS NULL) OR ((reconciliation_status)::text = ANY ((ARRAY['FILLED'::character varying, 'PARTIAL_FILL'::character varying, 'CANCELLED'::character varying, 'TIMEOUT_CANCELLED'::character varying, 'FAILED'::character varying, 'MOCK_FILLED'::character varying])::text[])))),
    CONSTRAINT trading_orders_side_check CHECK (((side)::text = ANY ((ARRAY['BUY'::character varying, 'SELL'::character varying])::text[]))),
    CONSTRAINT trading_orders_status_check CHECK (((status)::text = ANY ((ARRAY['PLACED'::character varying, 'FILLED'::character varying, 'PARTIALLY_FILLED'::character varying, 'FAILED'::character varying, 'CANCELLED'::character varying, 'MOCK_FILLED'::character varying, 'TIMEOUT_CANCELLED'::character varying, 'RISK_REJECTED'::character varying])::text[])))
);

CREATE SEQUENCE public.trading_orders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.trading_orders_id_seq OWNED BY public.trading_orders.id;

ALTER TABLE ONLY public.ai_debates ALTER COLUMN id SET DEFAULT nextval('public.ai_debates_id_seq'::regclass);

ALTER TABLE ONLY public.circuit_breaker_events ALTER COLUMN id SET DEFAULT nextval('public.circuit_breaker_events_id_seq'::regclass);

ALTER TABLE ONLY public.golden_set_validations ALTER COLUMN id SET DEFAULT nextval('public.golden_set_validations_id_seq'::regclass);

ALTER TABLE ONLY public.market_snapshots ALTER COLUMN id SET DEFAULT nextval('public.market_snapshots_id_seq'::regclass);

ALTER TABLE ONLY public.order_events ALTER COLUMN id SET DEFAULT nextval('public.order_events_id_seq'::regclass);

ALTER TABLE ONLY public.order_execution ALTER COLUMN id SET DEFAULT nextval('public.order_execution_id_seq'::regclass);

ALTER TABLE ONLY public.policy_decision_audit ALTER COLUMN id SET DEFAULT nextval('public.policy_decision_audit_id_seq'::regclass);

ALTER TABLE ONLY public.reward_governor_state ALTER COLUMN id SET DEFAULT nextval('public.reward_governor_state_id_seq'::regclass);

ALTER TABLE ONLY public.risk_assessments ALTER COLUMN id SET DEFAULT nextval('public.risk_assessments_id_seq'::regclass);

ALTER TABLE ONLY public.sentiment_cache ALTER COLUMN id SET DEFAULT nextval('public.sentiment_cache_id_seq'::regclass);

ALTER TABLE ONLY public.signals ALTER COLUMN id SET DEFAULT nextval('public.signals_id_seq'::regclass);

ALTER TABLE ONLY public.simulation_results ALTER COLUMN id SET DEFAULT nextval('public.simulation_results_id_seq'::regclass);

ALTER TABLE ONLY public.slippage_anomaly_history ALTER COLUMN id SET DEFAULT nextval('public.slippage_anomaly_history_id_seq'::regclass);

ALTER TABLE ONLY public.strategy_blueprints ALTER COLUMN id SET DEFAULT nextval('public.strategy_blueprints_id_seq'::regclass);

ALTER TABLE ONLY public.strategy_decisions ALTER COLUMN id SET DEFAULT nextval('public.strategy_decisions_id_seq'::regclass);

ALTER TABLE ONLY public.strategy_performance_metrics ALTER COLUMN id SET DEFAULT nextval('public.strategy_performance_metrics_id_seq'::regclass);

ALTER TABLE ONLY public.symbol_confidence_penalties ALTER COLUMN id SET DEFAULT nextval('public.symbol_confidence_penalties_id_seq'::regclass);

ALTER TABLE ONLY public.system_settings ALTER COLUMN id SET DEFAULT nextval('public.system_settings_id_seq'::regclass);

ALTER TABLE ONLY public.trade_learning_events ALTER COLUMN id SET DEFAULT nextval('public.trade_learning_events_id_seq'::regclass);

ALTER TABLE ONLY public.trade_lifecycle ALTER COLUMN id SET DEFAULT nextval('public.trade_lifecycle_id_seq'::regclass);

ALTER TABLE ONLY public.trade_state_transitions ALTER COLUMN id SET DEFAULT nextval('public.trade_state_transitions_id_seq'::regclass);

ALTER TABLE ONLY public.trading_orders ALTER COLUMN id SET DEFAULT nextval('public.trading_orders_id_seq'::regclass);
