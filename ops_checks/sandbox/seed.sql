-- Seed data for the sandbox, within TRADE_BOT's constraints: settings per runbook §1.3.2, and 24 h of DRY_RUN
-- history (a policy decision a minute; a signal and its dry-run order an hour) so §1.6.4 has a real period.
-- Ids are uuids; every audit row is hash-chained by the bot's triggers.
UPDATE system_settings
   SET daily_loss_limit_pct = 0.0300, max_consecutive_losses = 3, daily_pnl_zar = 0.00, daily_pnl_pct = 0.000000,
       consecutive_losses = 0, daily_pnl_reset_at = now() - interval '2 hours', daily_starting_equity_zar = 100000.00
 WHERE id = 1;

INSERT INTO signals (signal_id, symbol, side, price, quantity, raw_payload, source_ip, hmac_verified, created_at)
SELECT 'SEED-' || to_char(ts, 'YYYYMMDDHH24MI'), 'BTCZAR',
       CASE WHEN extract(hour FROM ts)::int % 2 = 0 THEN 'BUY' ELSE 'SELL' END,
       1250000.0000000000, 0.0001000000,
       jsonb_build_object('symbol', 'BTCZAR', 'source', 'sandbox seed'), '127.0.0.1', true, ts
FROM generate_series(now() - interval '24 hours 5 minutes', now() - interval '30 seconds', interval '1 hour') AS ts
ORDER BY ts;

-- Each signal's policy decision carries the signal's correlation_id (migration 021: "UUID linking this decision to
-- trade signals"); the other minutes are the policy loop's own evaluations.
INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, context_snapshot,
                                   is_latched, ai_confidence, created_at)
SELECT COALESCE(s.correlation_id, gen_random_uuid()), ts, 'ALLOW', 'ALLOW_ALL_GATES_PASSED',
       '{"kill_switch_active": false, "budget_signal": "ALLOW", "health_status": "GREEN",
         "risk_assessment": "HEALTHY"}'::jsonb,
       false, 0.7500, ts
FROM generate_series(now() - interval '24 hours 5 minutes', now() - interval '30 seconds', interval '1 minute') AS ts
     LEFT JOIN signals s ON s.created_at = ts
ORDER BY ts;

INSERT INTO trading_orders (correlation_id, order_id, pair, side, quantity, execution_price, zar_value, status,
                            is_mock, is_simulated, execution_mode, realized_pnl_zar, created_at)
SELECT s.correlation_id, 'DRY-' || to_char(s.created_at, 'YYYYMMDDHH24MI'), 'BTCZAR', s.side, s.quantity, s.price,
       round(s.price * s.quantity, 2), 'MOCK_FILLED', true, true, 'DRY_RUN', 0.00, s.created_at
FROM signals s ORDER BY s.id;

-- Incident SOP prevention checklist (daily "Test kill switch"): this morning's test, locked and released.
INSERT INTO circuit_breaker_events (event_type, trigger_reason, created_at)
VALUES ('MANUAL_LOCK', 'daily kill-switch test', now() - interval '3 hours'),
       ('MANUAL_UNLOCK', 'daily kill-switch test passed', now() - interval '3 hours' + interval '5 seconds');

-- The suite's own records (schema opscheck).
-- §2.4: every rotated secret was rotated recently (well within its 90/180-day period).
INSERT INTO opscheck.secret_rotations (secret_name, rotated_at, rotated_by)
VALUES ('VALR_API_KEY', now() - interval '20 days', 'sandbox-seed'),
       ('VALR_API_SECRET', now() - interval '20 days', 'sandbox-seed'),
       ('SOVEREIGN_SECRET', now() - interval '40 days', 'sandbox-seed'),
       ('GUARDIAN_RESET_CODE', now() - interval '10 days', 'sandbox-seed'),
       ('OPENROUTER_API_KEY', now() - interval '30 days', 'sandbox-seed');

-- §7.6: the audit trail's inception is the first decision recorded (nothing archived yet in the sandbox).
INSERT INTO opscheck.ops_audit_inception (id, inception_at, recorded_by)
SELECT 1, MIN(timestamp_utc), 'sandbox seed' FROM policy_decision_audit HAVING MIN(timestamp_utc) IS NOT NULL
ON CONFLICT (id) DO NOTHING;

-- Who ran this morning's kill-switch test (circuit_breaker_events has no operator column).
INSERT INTO opscheck.ops_prevention_records (activity, subject, performed_at, performed_by, outcome, details)
VALUES ('kill_switch_test', 'daily', now() - interval '3 hours', 'sandbox-seed', 'passed', '{}'),
       ('runbook_review', 'live-trading-runbook.md', now() - interval '2 days', 'sandbox-seed', 'passed', '{}'),
       ('runbook_review', 'incident-response-sop.md', now() - interval '2 days', 'sandbox-seed', 'passed', '{}'),
       ('dr_drill', 'full database restore', now() - interval '10 days', 'sandbox-seed', 'passed',
        '{"tables": 14, "rows": 1500, "checksums": "matched"}');
