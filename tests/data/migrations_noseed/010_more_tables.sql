-- Lexical order: 010 runs after 002 (it references signals).
CREATE TABLE trading_orders (
    id bigserial PRIMARY KEY, correlation_id uuid REFERENCES signals (correlation_id), order_id text,
    pair text, side text, quantity numeric(28,10), execution_price numeric(28,10), zar_value numeric(20,2),
    status text, is_mock boolean, is_simulated boolean, execution_mode text, realized_pnl_zar numeric(20,2),
    created_at timestamptz
);
CREATE TABLE circuit_breaker_events (
    id bigserial PRIMARY KEY, event_type text NOT NULL, trigger_reason varchar(100) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO system_settings (id) VALUES (1);
