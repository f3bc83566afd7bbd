-- Broken on purpose: references a table no earlier migration creates.
CREATE TABLE trading_orders (id bigserial PRIMARY KEY, signal_id bigint REFERENCES no_such_table (id));
