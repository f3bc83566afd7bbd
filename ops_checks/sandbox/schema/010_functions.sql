-- Trigger functions with the behaviour TRADE_BOT's migrations give them (001, 009, 014, 022), written for the
-- sandbox. Audit tables are append-only; every insert is chained to the previous row by a SHA-256 row hash.
-- Unlike the real bot's compute_row_hash (whose last definition, migration 026, no longer knows
-- circuit_breaker_events and rejects every insert into it), this one chains any table it is attached to.

CREATE OR REPLACE FUNCTION public.get_genesis_hash() RETURNS character(64)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT repeat('0', 64)::character(64) $$;

CREATE OR REPLACE FUNCTION public.row_hash_order(tbl text) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE tbl
        WHEN 'hitl_approvals' THEN 'requested_at DESC, id DESC'
        WHEN 'deep_link_tokens' THEN 'created_at DESC, token DESC'
        WHEN 'post_trade_snapshots' THEN 'created_at DESC, id DESC'
        WHEN 'audit_log' THEN 'created_at DESC, id DESC'
        ELSE 'id DESC'
    END
$$;

CREATE OR REPLACE FUNCTION public.compute_row_hash() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
DECLARE
    prev_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_NAME));
    -- The chain is ordered by id, so the id must be drawn inside the lock: an id taken from the sequence before
    -- the lock (the column default) lets two concurrent inserts chain in one order and number in the other.
    IF TG_OP = 'INSERT' AND public.row_hash_order(TG_TABLE_NAME) = 'id DESC' THEN
        NEW.id := nextval(pg_get_serial_sequence(format('%I.%I', TG_TABLE_SCHEMA, TG_TABLE_NAME), 'id'));
    END IF;
    EXECUTE format('SELECT row_hash FROM %I.%I ORDER BY %s LIMIT 1', TG_TABLE_SCHEMA, TG_TABLE_NAME,
                   public.row_hash_order(TG_TABLE_NAME))
        INTO prev_hash;
    prev_hash := COALESCE(prev_hash, public.get_genesis_hash());
    NEW.row_hash := encode(public.digest(prev_hash || (to_jsonb(NEW) - 'row_hash')::text, 'sha256'), 'hex');
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION public.prevent_update() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'UPDATE forbidden on append-only audit table %', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE FUNCTION public.prevent_delete() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'DELETE forbidden on append-only audit table %', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Money and quantities must arrive as exact decimals: a value that went through a float (exponent form, or
-- more digits than a decimal carries) is refused.
CREATE OR REPLACE FUNCTION public.validate_decimal_input() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    doc jsonb := to_jsonb(NEW);
    col text;
    val text;
BEGIN
    FOREACH col IN ARRAY ARRAY['price', 'quantity', 'fill_quantity', 'fill_price', 'confidence_score'] LOOP
        val := doc ->> col;
        IF val IS NOT NULL AND (val ~* 'e[+-]?[0-9]+$' OR length(val) > 40) THEN
            RAISE EXCEPTION 'float precision loss in %.%: %', TG_TABLE_NAME, col, val;
        END IF;
    END LOOP;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION public.update_system_settings_timestamp() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION public.prevent_dsl_json_update() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF OLD.dsl_json IS DISTINCT FROM NEW.dsl_json THEN
        RAISE EXCEPTION 'dsl_json is immutable after creation (fingerprint %)', OLD.fingerprint;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

-- Trade lifecycle: PENDING -> ACCEPTED|REJECTED, ACCEPTED -> FILLED|REJECTED, FILLED -> CLOSED, CLOSED -> SETTLED.
CREATE OR REPLACE FUNCTION public.validate_state_transition() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    IF NOT ((NEW.from_state = 'PENDING' AND NEW.to_state IN ('ACCEPTED', 'REJECTED'))
            OR (NEW.from_state = 'ACCEPTED' AND NEW.to_state IN ('FILLED', 'REJECTED'))
            OR (NEW.from_state = 'FILLED' AND NEW.to_state = 'CLOSED')
            OR (NEW.from_state = 'CLOSED' AND NEW.to_state = 'SETTLED')) THEN
        RAISE EXCEPTION 'invalid trade state transition % -> %', NEW.from_state, NEW.to_state;
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION public.update_trade_lifecycle_state() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
BEGIN
    UPDATE public.trade_lifecycle SET current_state = NEW.to_state, updated_at = now() WHERE trade_id = NEW.trade_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'trade % not found', NEW.trade_id;
    END IF;
    RETURN NEW;
END;
$$;

-- Recompute a table's row-hash chain in insertion order; true when every stored hash matches.
CREATE OR REPLACE FUNCTION public.verify_chain_integrity(table_name text) RETURNS boolean
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    rec jsonb;
    prev_hash text := public.get_genesis_hash();
    ord text := replace(replace(public.row_hash_order(table_name), ' DESC', ''), ' ASC', '');
BEGIN
    FOR rec IN EXECUTE format('SELECT to_jsonb(t) FROM public.%I t ORDER BY %s', table_name, ord) LOOP
        IF rec ->> 'row_hash' IS DISTINCT FROM
           encode(public.digest(prev_hash || (rec - 'row_hash')::text, 'sha256'), 'hex') THEN
            RETURN false;
        END IF;
        prev_hash := rec ->> 'row_hash';
    END LOOP;
    RETURN true;
END;
$$;
