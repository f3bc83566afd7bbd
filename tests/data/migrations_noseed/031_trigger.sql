-- Applies cleanly, but rejects every event insert (as TRADE_BOT's compute_row_hash rejects circuit_breaker_events).
CREATE FUNCTION reject_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'compute_row_hash: Unknown table %', TG_TABLE_NAME; END $$;
CREATE TRIGGER reject_event BEFORE INSERT ON circuit_breaker_events FOR EACH ROW EXECUTE FUNCTION reject_event();
