-- A minimal bot schema for tests/test_migrations.py: only what the sandbox seed writes, with the bot's role.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_trading') THEN CREATE ROLE app_trading NOLOGIN; END IF;
END $$;
