CREATE TABLE system_settings (
    id integer PRIMARY KEY CHECK (id = 1),
    daily_loss_limit_pct numeric(6,4), max_consecutive_losses integer, daily_pnl_zar numeric(20,2),
    daily_pnl_pct numeric(10,6), consecutive_losses integer, daily_pnl_reset_at timestamptz,
    daily_starting_equity_zar numeric(20,2)
);
CREATE TABLE policy_decision_audit (
    id bigserial PRIMARY KEY, correlation_id uuid NOT NULL, timestamp_utc timestamptz NOT NULL,
    policy_decision text NOT NULL, reason_code text NOT NULL, context_snapshot jsonb NOT NULL,
    is_latched boolean NOT NULL DEFAULT false, ai_confidence numeric(5,4), created_at timestamptz DEFAULT now()
);
CREATE TABLE signals (
    id bigserial PRIMARY KEY, correlation_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    signal_id text NOT NULL, symbol text NOT NULL, side text NOT NULL, price numeric(28,10),
    quantity numeric(28,10), raw_payload jsonb, source_ip text, hmac_verified boolean, created_at timestamptz
);
