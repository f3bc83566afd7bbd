-- ops_checks' own tables, in their own schema so the bot's role never needs CREATE on public.
-- Idempotent: every statement may run again. The version row says which revision is installed.
CREATE SCHEMA IF NOT EXISTS opscheck;

CREATE TABLE IF NOT EXISTS opscheck.ops_schema_version (
    version     text PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- Sign-off ledger: one row per signed live run, hash-chained (see ops_checks/signoff.py).
CREATE TABLE IF NOT EXISTS opscheck.ops_signoffs (
    id              bigserial PRIMARY KEY,
    run_id          text NOT NULL UNIQUE,
    target          text NOT NULL,
    verdict         text NOT NULL,
    counts          jsonb NOT NULL,
    results_sha256  text NOT NULL,
    operator        text NOT NULL,
    witness         text NOT NULL,
    signed_at       timestamptz NOT NULL,
    prev_hash       text NOT NULL,
    row_hash        text NOT NULL,
    mac             text            -- HMAC-SHA256(operators' key, row_hash); the key never enters the database
);
ALTER TABLE opscheck.ops_signoffs ADD COLUMN IF NOT EXISTS mac text;

-- Runbook §2.4: when each secret was last rotated and by whom. Never the value (nor any part of it).
CREATE TABLE IF NOT EXISTS opscheck.secret_rotations (
    id            bigserial PRIMARY KEY,
    secret_name   text NOT NULL CHECK (secret_name ~ '^[A-Z][A-Z0-9_]*$'),
    rotated_at    timestamptz NOT NULL DEFAULT now(),
    rotated_by    text NOT NULL CHECK (length(btrim(rotated_by)) > 0),
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS secret_rotations_name_at_idx ON opscheck.secret_rotations (secret_name, rotated_at DESC);

-- Runbook §7.6 retention evidence: when the audit trail began, and every archival with its two approvals.
CREATE TABLE IF NOT EXISTS opscheck.ops_audit_inception (
    id            integer PRIMARY KEY CHECK (id = 1),
    inception_at  timestamptz NOT NULL,
    recorded_by   text NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS opscheck.ops_audit_retention (
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

-- Runbook §6: incident records (INC-YYYYMMDD-NNN) opened by `opscheck incident capture`.
CREATE TABLE IF NOT EXISTS opscheck.ops_incidents (
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

-- Runbook §3 transitions and §4/§5 operator actions: who did what, when. The bot's policy_decision_audit cannot
-- hold them (its CHECKs allow only ALLOW/NEUTRAL/HALT decisions and uuid correlation ids), nor can
-- circuit_breaker_events (no operator column).
CREATE TABLE IF NOT EXISTS opscheck.ops_operator_actions (
    id              bigserial PRIMARY KEY,
    correlation_id  uuid NOT NULL DEFAULT gen_random_uuid(),
    action          text NOT NULL,
    detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
    operator        text NOT NULL CHECK (length(btrim(operator)) > 0),
    witness         text,
    recorded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ops_operator_actions_at_idx ON opscheck.ops_operator_actions (action, recorded_at DESC);

-- Incident SOP prevention checklist (weekly/monthly): each review and drill done, with who, when and outcome.
CREATE TABLE IF NOT EXISTS opscheck.ops_prevention_records (
    id            bigserial PRIMARY KEY,
    activity      text NOT NULL
                  CHECK (activity IN ('runbook_review', 'incident_review', 'restore_drill', 'dr_drill',
                                      'kill_switch_test')),
    subject       text NOT NULL DEFAULT '',
    performed_at  timestamptz NOT NULL DEFAULT now(),
    performed_by  text NOT NULL CHECK (length(btrim(performed_by)) > 0),
    outcome       text NOT NULL CHECK (outcome IN ('passed', 'failed')),
    details       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX IF NOT EXISTS ops_prevention_records_idx
    ON opscheck.ops_prevention_records (activity, subject, performed_at DESC);

INSERT INTO opscheck.ops_schema_version (version) VALUES ('2.0.0') ON CONFLICT DO NOTHING;
