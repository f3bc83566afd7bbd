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
