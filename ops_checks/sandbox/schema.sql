-- Reference schema of the bot's database `autonomous_alpha`: every table and column the runbooks touch.
-- Money is NUMERIC, times are timestamptz, snapshots are jsonb.

CREATE TABLE IF NOT EXISTS ops_schema_version (
    version     text PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO ops_schema_version (version) VALUES ('1.0.0') ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS system_settings (
    id                            integer PRIMARY KEY CHECK (id = 1),
    circuit_breaker_active        boolean NOT NULL DEFAULT false,
    circuit_breaker_reason        text,
    circuit_breaker_triggered_at  timestamptz,
    circuit_breaker_unlock_at     timestamptz,
    daily_loss_limit_pct          numeric(8, 6) NOT NULL,
    max_consecutive_losses        integer NOT NULL,
    daily_pnl_zar                 numeric(20, 2) NOT NULL DEFAULT 0.00,
    daily_pnl_pct                 numeric(12, 6) NOT NULL DEFAULT 0.000000,
    consecutive_losses            integer NOT NULL DEFAULT 0,
    daily_pnl_reset_at            timestamptz,
    daily_starting_equity_zar     numeric(20, 2),
    updated_at                    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS circuit_breaker_events (
    id                      bigserial PRIMARY KEY,
    event_type              text NOT NULL,
    trigger_reason          text,
    trigger_value           numeric(20, 6),
    lockout_duration_hours  numeric(8, 2),
    unlock_at               timestamptz,
    daily_pnl_zar           numeric(20, 2),
    daily_pnl_pct           numeric(12, 6),
    operator                text,
    created_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS circuit_breaker_events_created_at_idx ON circuit_breaker_events (created_at);

CREATE TABLE IF NOT EXISTS policy_decision_audit (
    id                bigserial PRIMARY KEY,
    correlation_id    text NOT NULL,
    timestamp_utc     timestamptz NOT NULL DEFAULT now(),
    policy_decision   text NOT NULL,
    reason_code       text NOT NULL,
    context_snapshot  jsonb NOT NULL DEFAULT '{}'::jsonb,
    is_latched        boolean NOT NULL DEFAULT false,
    ai_confidence     numeric(5, 2)
);
CREATE INDEX IF NOT EXISTS policy_decision_audit_timestamp_idx ON policy_decision_audit (timestamp_utc);
CREATE INDEX IF NOT EXISTS policy_decision_audit_correlation_idx ON policy_decision_audit (correlation_id);

CREATE TABLE IF NOT EXISTS trading_orders (
    id               bigserial PRIMARY KEY,
    order_id         text NOT NULL UNIQUE,
    correlation_id   text,
    symbol           text NOT NULL,
    side             text NOT NULL CHECK (side IN ('BUY', 'SELL')),
    quantity         numeric(28, 10) NOT NULL,
    price            numeric(28, 10),
    status           text NOT NULL,
    pnl_zar          numeric(20, 2),
    execution_mode   text NOT NULL DEFAULT 'DRY_RUN' CHECK (execution_mode IN ('DRY_RUN', 'LIVE')),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS trading_orders_created_at_idx ON trading_orders (created_at);
CREATE INDEX IF NOT EXISTS trading_orders_correlation_idx ON trading_orders (correlation_id);

CREATE TABLE IF NOT EXISTS ai_debate_ledger (
    id               bigserial PRIMARY KEY,
    correlation_id   text,
    model            text,
    stance           text,
    argument         text,
    ai_confidence    numeric(5, 2),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ai_debate_ledger_created_at_idx ON ai_debate_ledger (created_at);

CREATE TABLE IF NOT EXISTS risk_audit (
    id                bigserial PRIMARY KEY,
    correlation_id    text,
    risk_assessment   text NOT NULL,
    exposure_zar      numeric(20, 2),
    details           jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS risk_audit_created_at_idx ON risk_audit (created_at);

CREATE TABLE IF NOT EXISTS trade_learning_events (
    id               bigserial PRIMARY KEY,
    correlation_id   text,
    event_type       text NOT NULL,
    payload          jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS trade_learning_events_created_at_idx ON trade_learning_events (created_at);

CREATE TABLE IF NOT EXISTS valr_balances (
    currency     text PRIMARY KEY,
    balance      numeric(28, 10) NOT NULL,
    available    numeric(28, 10) NOT NULL,
    reserved     numeric(28, 10) NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Runbook §2.4: when each secret was last rotated and by whom. Never the value (nor any part of it).
CREATE TABLE IF NOT EXISTS secret_rotations (
    id            bigserial PRIMARY KEY,
    secret_name   text NOT NULL CHECK (secret_name ~ '^[A-Z][A-Z0-9_]*$'),
    rotated_at    timestamptz NOT NULL DEFAULT now(),
    rotated_by    text NOT NULL CHECK (length(btrim(rotated_by)) > 0),
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS secret_rotations_name_at_idx ON secret_rotations (secret_name, rotated_at DESC);

-- Runbook §7.6 retention evidence: when the audit trail began (the first decision the bot ever recorded), and
-- every archival of audit rows to cold storage with its two approvals. The bot's role never deletes audit rows.
CREATE TABLE IF NOT EXISTS ops_audit_inception (
    id            integer PRIMARY KEY CHECK (id = 1),
    inception_at  timestamptz NOT NULL,
    recorded_by   text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ops_audit_retention (
    id                bigserial PRIMARY KEY,
    table_name        text NOT NULL,
    archived_before   timestamptz NOT NULL,
    row_count         bigint,
    archive_location  text NOT NULL,
    archived_by       text NOT NULL,
    approved_by       text NOT NULL,
    second_approver   text NOT NULL,
    archived_at       timestamptz NOT NULL DEFAULT now()
);

-- Runbook §6: incident records opened by `opscheck incident capture` (INC-YYYYMMDD-NNN): the §6.1 actions with who
-- and when, the §6.2 capture's location and checksum, the §6.3 root cause and fix, the §6.4 pre-resume checks.
CREATE TABLE IF NOT EXISTS ops_incidents (
    incident_id     text PRIMARY KEY CHECK (incident_id ~ '^INC-[0-9]{8}-[0-9]{3}$'),
    opened_at       timestamptz NOT NULL DEFAULT now(),
    opened_by       text NOT NULL,
    trigger         text NOT NULL,
    detection       text NOT NULL,
    capture_dir     text,
    capture_sha256  text,
    actions         jsonb NOT NULL DEFAULT '{}'::jsonb,
    root_cause      text,
    fix             text,
    documented_by   text,
    documented_at   timestamptz,
    resume_checks   jsonb,
    resumed_by      text,
    resumed_at      timestamptz
);

-- Incident SOP prevention checklist (weekly/monthly): each review and drill done, with who, when and the outcome.
-- activity: runbook_review (subject: runbook file), incident_review (subject: incident id), restore_drill and
-- dr_drill (subject: what was restored; details: tables, rows, checksums).
CREATE TABLE IF NOT EXISTS ops_prevention_records (
    id            bigserial PRIMARY KEY,
    activity      text NOT NULL
                  CHECK (activity IN ('runbook_review', 'incident_review', 'restore_drill', 'dr_drill')),
    subject       text NOT NULL DEFAULT '',
    performed_at  timestamptz NOT NULL DEFAULT now(),
    performed_by  text NOT NULL CHECK (length(btrim(performed_by)) > 0),
    outcome       text NOT NULL CHECK (outcome IN ('passed', 'failed')),
    details       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS ops_prevention_records_idx ON ops_prevention_records (activity, subject, performed_at DESC);
