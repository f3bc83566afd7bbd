-- Seed data for the sandbox: settings per runbook §1.3.2, a ZAR balance, and 24 h of DRY_RUN history
-- (a policy decision a minute, a dry-run order an hour) so the §1.6.4 review has a real period to read.
INSERT INTO system_settings (id, daily_loss_limit_pct, max_consecutive_losses, daily_pnl_zar, daily_pnl_pct,
                             consecutive_losses, daily_pnl_reset_at, daily_starting_equity_zar)
VALUES (1, 0.030000, 3, 0.00, 0.000000, 0, now() - interval '2 hours', 100000.00)
ON CONFLICT (id) DO NOTHING;

INSERT INTO valr_balances (currency, balance, available, reserved)
VALUES ('ZAR', 100000.00, 100000.00, 0), ('BTC', 0.0500000000, 0.0500000000, 0)
ON CONFLICT (currency) DO NOTHING;

INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, context_snapshot,
                                   is_latched, ai_confidence)
SELECT 'SEED-' || to_char(ts, 'YYYYMMDD"T"HH24MISS'), ts, 'ALLOW', 'ALL_GATES_PASSED',
       '{"kill_switch_active": false, "budget_signal": "ALLOW", "health_status": "GREEN",
         "risk_assessment": "HEALTHY"}'::jsonb,
       false, 75.00
FROM generate_series(now() - interval '24 hours 5 minutes', now() - interval '30 seconds', interval '1 minute') AS ts;

INSERT INTO trading_orders (order_id, correlation_id, symbol, side, quantity, price, status, pnl_zar,
                            execution_mode, created_at)
SELECT 'DRY-' || to_char(ts, 'YYYYMMDDHH24MI'), 'SEED-' || to_char(ts, 'YYYYMMDD"T"HH24MISS'), 'BTCZAR',
       CASE WHEN extract(hour FROM ts)::int % 2 = 0 THEN 'BUY' ELSE 'SELL' END,
       0.0001000000, 1250000.0000000000, 'FILLED', 0.00, 'DRY_RUN', ts
FROM generate_series(now() - interval '24 hours 5 minutes', now() - interval '30 seconds', interval '1 hour') AS ts;

-- §2.4: every rotated secret was rotated recently (well within its 90/180-day period).
INSERT INTO secret_rotations (secret_name, rotated_at, rotated_by)
VALUES ('VALR_API_KEY', now() - interval '20 days', 'sandbox-seed'),
       ('VALR_API_SECRET', now() - interval '20 days', 'sandbox-seed'),
       ('SOVEREIGN_SECRET', now() - interval '40 days', 'sandbox-seed'),
       ('GUARDIAN_RESET_CODE', now() - interval '10 days', 'sandbox-seed'),
       ('OPENROUTER_API_KEY', now() - interval '30 days', 'sandbox-seed');

-- §7.6: the audit trail's inception is the first decision recorded (nothing archived yet in the sandbox).
INSERT INTO ops_audit_inception (id, inception_at, recorded_by)
SELECT 1, MIN(timestamp_utc), 'sandbox seed' FROM policy_decision_audit HAVING MIN(timestamp_utc) IS NOT NULL
ON CONFLICT (id) DO NOTHING;

-- Incident SOP prevention checklist (daily "Test kill switch"): this morning's kill-switch test, released.
INSERT INTO circuit_breaker_events (event_type, trigger_reason, operator, created_at)
VALUES ('MANUAL_KILL_SWITCH', 'daily kill-switch test', 'sandbox-seed', now() - interval '3 hours'),
       ('MANUAL_KILL_SWITCH_RELEASED', 'daily kill-switch test passed', 'sandbox-seed',
        now() - interval '3 hours' + interval '5 seconds');

-- Incident SOP prevention checklist (weekly "Update runbooks", monthly "Disaster recovery drill"): this week's
-- review of both runbooks and last month's DR drill. The weekly restore drill runs (and records itself) in the suite.
INSERT INTO ops_prevention_records (activity, subject, performed_at, performed_by, outcome, details)
VALUES ('runbook_review', 'live-trading-runbook.md', now() - interval '2 days', 'sandbox-seed', 'passed', '{}'),
       ('runbook_review', 'incident-response-sop.md', now() - interval '2 days', 'sandbox-seed', 'passed', '{}'),
       ('dr_drill', 'full database restore', now() - interval '10 days', 'sandbox-seed', 'passed',
        '{"tables": 14, "rows": 1500, "checksums": "matched"}');
