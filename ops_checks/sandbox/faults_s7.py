"""Faults for runbook §7 (audit extraction, integrity, retention): one per item, each breaking the audit data
or the database's grants the way the runbook fears."""

from __future__ import annotations

from collections.abc import Callable

from psycopg import sql

from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import Fault, chain, run_sql


def _role_sql(template: str) -> Callable[[Sandbox], None]:
    def run(sb: Sandbox) -> None:
        assert sb.db is not None
        sb.admin(sql.SQL(template).format(r=sql.Identifier(sb.db.user)).as_string(None))

    return run


UTC_DAY = "(timestamp_utc AT TIME ZONE 'UTC')::date"

# Older history (a decision a minute for the five days before the seed's 24 h), the inception moved back to its
# start, then one whole UTC day of it deleted: a real missing day while the bot was running.
MISSING_DAY = f"""
INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, context_snapshot,
                                   ai_confidence)
SELECT 'HIST-' || to_char(ts, 'YYYYMMDD"T"HH24MISS'), ts, 'ALLOW', 'ALL_GATES_PASSED',
       '{{"kill_switch_active": false, "budget_signal": "ALLOW", "health_status": "GREEN",
         "risk_assessment": "HEALTHY"}}'::jsonb, 75.00
FROM generate_series(now() - interval '6 days', now() - interval '24 hours 6 minutes', interval '1 minute') AS ts;
UPDATE ops_audit_inception SET inception_at = (SELECT MIN(timestamp_utc) FROM policy_decision_audit) WHERE id = 1;
DELETE FROM policy_decision_audit WHERE {UTC_DAY} = (now() AT TIME ZONE 'UTC')::date - 3;
"""

FAULTS: tuple[Fault, ...] = (
    Fault(
        "audit_table_unreadable",
        "7.2.1",
        "the application role lost SELECT on trade_learning_events (a §7.1 table the runbook's script forgets)",
        _role_sql("REVOKE SELECT ON trade_learning_events FROM {r}"),
    ),
    Fault(
        "schema_version_missing",
        "7.2.2",
        "ops_schema_version is empty: an export cannot say which schema its columns follow",
        run_sql("DELETE FROM ops_schema_version"),
    ),
    Fault(
        "decision_value_unknown",
        "7.3.1",
        "the policy log holds decisions outside ALLOW/NEUTRAL/HALT",
        run_sql(
            "INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code) "
            "VALUES ('FAULT-ERR-0001', now() - interval '3 hours', 'ERROR', 'EXCEPTION_IN_POLICY')"
        ),
        verdict="GO",
    ),
    Fault(
        "activation_without_reason",
        "7.3.2",
        "a kill switch activation was recorded without its trigger reason",
        run_sql(
            "INSERT INTO circuit_breaker_events (event_type, created_at) "
            "VALUES ('MANUAL_KILL_SWITCH', now() - interval '2 hours')"
        ),
        verdict="GO",
    ),
    Fault(
        "trade_under_halt",
        "7.3.3",
        "a trade was filled under a HALT decision",
        run_sql(
            "INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code) "
            "VALUES ('FAULT-HALT-0001', now() - interval '2 hours', 'HALT', 'HALT_KILL_SWITCH'); "
            "INSERT INTO trading_orders (order_id, correlation_id, symbol, side, quantity, price, status, pnl_zar, "
            "execution_mode, created_at) VALUES ('FAULT-ORDER-HALT', 'FAULT-HALT-0001', 'BTCZAR', 'BUY', 0.0001, "
            "1250000, 'FILLED', 0.00, 'DRY_RUN', now() - interval '2 hours' + interval '1 second')"
        ),
    ),
    Fault(
        "low_confidence_allow",
        "7.3.4",
        "the policy allowed trades on AI confidence of 35",
        run_sql(
            "INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, "
            "ai_confidence) SELECT 'FAULT-LOWCONF-' || g, now() - make_interval(mins => 90 + g), 'ALLOW', "
            "'ALL_GATES_PASSED', 35.00 FROM generate_series(1, 3) AS g"
        ),
        verdict="GO",
    ),
    Fault(
        "pnl_not_recorded",
        "7.4.1",
        "the latest filled trade has no recorded P&L",
        run_sql(
            "UPDATE trading_orders SET pnl_zar = NULL WHERE id = "
            "(SELECT id FROM trading_orders WHERE status = 'FILLED' ORDER BY created_at DESC LIMIT 1)"
        ),
        verdict="GO",
    ),
    Fault("decisions_missing_day", "7.5.1", "a whole day of the last 30 has no policy decisions", run_sql(MISSING_DAY)),
    Fault(
        "decision_gap",
        "7.5.2",
        "50 minutes of decisions are missing (between two hourly trades)",
        run_sql(
            "DELETE FROM policy_decision_audit WHERE timestamp_utc > now() - interval '9 hours' "
            "AND timestamp_utc < now() - interval '8 hours 10 minutes'"
        ),
    ),
    Fault(
        "orphan_trade",
        "7.5.3",
        "a filled trade has no policy decision under its correlation id",
        run_sql(
            "INSERT INTO trading_orders (order_id, correlation_id, symbol, side, quantity, price, status, pnl_zar, "
            "execution_mode, created_at) VALUES ('FAULT-ORPHAN-0001', 'NO-DECISION-0001', 'BTCZAR', 'SELL', "
            "0.0001, 1250000, 'FILLED', 0.00, 'DRY_RUN', now() - interval '1 hour')"
        ),
    ),
    Fault(
        "audit_rows_purged",
        "7.6.1",
        "the oldest four hours of decisions and orders were deleted without an archival record",
        chain(
            run_sql("DELETE FROM trading_orders WHERE created_at < now() - interval '20 hours'"),
            run_sql("DELETE FROM policy_decision_audit WHERE timestamp_utc < now() - interval '20 hours'"),
        ),
    ),
    Fault(
        "bot_role_can_delete",
        "7.6.2",
        "the bot's role was granted DELETE on policy_decision_audit",
        _role_sql("GRANT DELETE ON policy_decision_audit TO {r}"),
        verdict="GO",
    ),
)
