-- Roles the bot's migrations create (004: app_trading, 012: aura_readonly). Roles are cluster-wide, so the
-- sandbox creates them once per server without a password (NOLOGIN); each sandbox session logs in as its own
-- member of app_trading, so grants made per database below are what the session sees.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_trading') THEN
        CREATE ROLE app_trading NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aura_readonly') THEN
        CREATE ROLE aura_readonly NOLOGIN;
    END IF;
END
$$;

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
