"""Faults for runbook §7 (audit extraction, integrity, retention): one per item, each breaking the audit data
or the database's grants the way the runbook fears."""

from __future__ import annotations

from collections.abc import Callable

from psycopg import sql

from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import Fault, chain, run_sql
from ops_checks.sandbox.postgres import BOT_ROLE


def _role_sql(template: str) -> Callable[[Sandbox], None]:
    """A grant change for the session role and the bot's role it inherits from (app_trading)."""

    def run(sb: Sandbox) -> None:
        assert sb.db is not None
        for role in (sb.db.user, BOT_ROLE):
            sb.admin(sql.SQL(template).format(r=sql.Identifier(role)).as_string(None))

    return run


def _tamper(statement: str) -> Callable[[Sandbox], None]:
    """Rows deleted by the database owner past the bot's prevent_update/prevent_delete triggers (replica mode), and
    policy_decision_audit's row-hash chain rebuilt afterwards: the deletion hides from 7.6.1's chain walk and shows
    only in the time series (the careful tamperer the runbook's §7.5 queries exist for)."""
    return run_sql(f"SET session_replication_role = replica; SET TimeZone = 'UTC'; {statement}; {RECHAIN}")


RECHAIN = """
DO $$
DECLARE r record; prev text := public.get_genesis_hash(); h text;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('policy_decision_audit'));  -- the bot's inserts wait (compute_row_hash)
  FOR r IN SELECT t.id, to_jsonb(t) - 'row_hash' AS body FROM public.policy_decision_audit t ORDER BY t.id LOOP
    h := encode(public.digest(prev || r.body::text, 'sha256'), 'hex');
    UPDATE public.policy_decision_audit SET row_hash = h WHERE id = r.id;
    prev := h;
  END LOOP;
END $$"""

SNAPSHOT = (
    '\'{"kill_switch_active": false, "budget_signal": "ALLOW", "health_status": "GREEN", '
    '"risk_assessment": "HEALTHY"}\'::jsonb'
)


def _trade(name: str, *, decision: str | None, pnl: str = "0.00", status: str = "FILLED") -> str:
    """A signal and its LIVE order 2 hours ago (the FK the bot's schema demands), with the policy decision the bot
    recorded for it (None: none)."""
    halt = decision == "HALT"
    dec = (
        ""
        if decision is None
        else f"""
, d AS (INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, blocking_gate,
                                          precedence_rank, context_snapshot)
        SELECT correlation_id, created_at, '{decision}', '{"HALT_KILL_SWITCH" if halt else "ALLOW_ALL_GATES_PASSED"}',
               {"'KILL_SWITCH'" if halt else "NULL"}, {"1" if halt else "NULL"}, {SNAPSHOT} FROM s RETURNING 1)"""
    )
    return f"""
WITH s AS (INSERT INTO signals (signal_id, symbol, side, price, quantity, raw_payload, source_ip, hmac_verified,
                                created_at)
           VALUES ('{name}', 'BTCZAR', 'BUY', 1250000, 0.0001, '{{}}'::jsonb, '127.0.0.1', true,
                   now() - interval '2 hours')
           RETURNING correlation_id, created_at){dec}
INSERT INTO trading_orders (correlation_id, order_id, pair, side, quantity, execution_price, zar_value, status,
                            is_mock, is_simulated, execution_mode, realized_pnl_zar, created_at)
SELECT correlation_id, '{name}', 'BTCZAR', 'BUY', 0.0001, 1250000, 125.00, '{status}', false, false, 'LIVE', {pnl},
       created_at + interval '1 second'
FROM s"""


UTC_DAY = "(timestamp_utc AT TIME ZONE 'UTC')::date"

# Older history (a decision a minute for the five days before the seed's 24 h), the inception moved back to its
# start, then one whole UTC day of it deleted: a real missing day while the bot was running.
MISSING_DAY = f"""
INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, context_snapshot,
                                   ai_confidence)
SELECT gen_random_uuid(), ts, 'ALLOW', 'ALLOW_ALL_GATES_PASSED', {SNAPSHOT}, 0.7500
FROM generate_series(now() - interval '6 days', now() - interval '24 hours 6 minutes', interval '1 minute') AS ts;
UPDATE opscheck.ops_audit_inception SET inception_at = (SELECT MIN(timestamp_utc) FROM policy_decision_audit)
 WHERE id = 1"""

FAULTS: tuple[Fault, ...] = (
    Fault(
        "audit_table_unreadable",
        "7.2.1",
        "the application role lost SELECT on post_trade_snapshots (one of the bot's append-only audit tables)",
        _role_sql("REVOKE SELECT ON post_trade_snapshots FROM {r}"),
    ),
    Fault(
        "schema_version_missing",
        "7.2.2",
        "opscheck.ops_schema_version is empty: an export cannot say which schema its columns follow",
        run_sql("DELETE FROM opscheck.ops_schema_version"),
    ),
    Fault(
        "decision_value_unknown",
        "7.3.1",
        "the decision CHECK was dropped and the policy log holds a decision outside ALLOW/NEUTRAL/HALT",
        run_sql(
            "ALTER TABLE policy_decision_audit DROP CONSTRAINT policy_decision_audit_decision_check; "
            "INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, "
            "blocking_gate, precedence_rank, context_snapshot) VALUES (gen_random_uuid(), now() - interval '3 hours',"
            " 'ERROR', 'HALT_CONTEXT_INCOMPLETE', 'RISK', 4, '{}'::jsonb)"
        ),
        verdict="GO",
    ),
    Fault(
        "activation_without_reason",
        "7.3.2",
        "a kill switch activation was recorded with a blank trigger reason",
        run_sql(
            "INSERT INTO circuit_breaker_events (event_type, trigger_reason, created_at) "
            "VALUES ('DAILY_LOSS_TRIGGERED', ' ', now() - interval '2 hours')"
        ),
        verdict="GO",
    ),
    Fault(
        "trade_under_halt",
        "7.3.3",
        "a trade was filled under a HALT decision",
        run_sql(_trade("FAULT-HALT", decision="HALT")),
    ),
    Fault(
        "low_confidence_allow",
        "7.3.4",
        "the policy allowed trades on AI confidence of 0.35",
        run_sql(
            "INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, "
            f"context_snapshot, ai_confidence) SELECT gen_random_uuid(), now() - make_interval(mins => 90 + g), "
            f"'ALLOW', 'ALLOW_ALL_GATES_PASSED', {SNAPSHOT}, 0.3500 FROM generate_series(1, 3) AS g"
        ),
        verdict="GO",
    ),
    Fault(
        "pnl_not_recorded",
        "7.4.1",
        "a filled LIVE trade has no recorded P&L",
        run_sql(_trade("FAULT-NOPNL", decision="ALLOW", pnl="NULL")),
        verdict="GO",
    ),
    Fault(
        "decisions_missing_day",
        "7.5.1",
        "a whole day of the last 30 has no policy decisions (deleted, chain rebuilt)",
        chain(
            run_sql(MISSING_DAY),
            _tamper(f"DELETE FROM policy_decision_audit WHERE {UTC_DAY} = (now() AT TIME ZONE 'UTC')::date - 3"),
        ),
    ),
    Fault(
        "decision_gap",
        "7.5.2",
        "50 minutes of decisions are missing (between two hourly trades; deleted, chain rebuilt)",
        _tamper(
            "DELETE FROM policy_decision_audit WHERE timestamp_utc > now() - interval '9 hours' "
            "AND timestamp_utc < now() - interval '8 hours 10 minutes'"
        ),
    ),
    Fault(
        "orphan_trade",
        "7.5.3",
        "a filled trade has no policy decision under its correlation id",
        run_sql(_trade("FAULT-ORPHAN", decision=None)),
    ),
    Fault(
        "audit_rows_purged",
        "7.6.1",
        "the oldest four hours of decisions and orders were deleted without an archival record",
        run_sql(
            "SET session_replication_role = replica; "
            "DELETE FROM trading_orders WHERE created_at < now() - interval '20 hours'; "
            "DELETE FROM policy_decision_audit WHERE timestamp_utc < now() - interval '20 hours'"
        ),
    ),
    Fault(
        "audit_chain_broken",
        "7.6.1",
        "one policy decision was rewritten in place (past the bot's trigger): the row-hash chain breaks",
        run_sql(
            "SET session_replication_role = replica; UPDATE policy_decision_audit SET ai_confidence = 0.9900 "
            "WHERE id = (SELECT id FROM policy_decision_audit ORDER BY id LIMIT 1 OFFSET 100)"
        ),
    ),
    Fault(
        "suite_schema_not_installed",
        "7.6.1",
        "`opscheck init` never ran: the suite's schema opscheck is missing (7.2.2 is then not verified)",
        run_sql("DROP SCHEMA opscheck CASCADE"),
    ),
    Fault(
        "bot_role_can_delete",
        "7.6.2",
        "the bot's role was granted DELETE on policy_decision_audit",
        _role_sql("GRANT DELETE ON policy_decision_audit TO {r}"),
        verdict="GO",
    ),
    Fault(
        "audit_trigger_disabled",
        "7.6.2",
        "the prevent_delete trigger of trading_orders was disabled",
        run_sql("ALTER TABLE trading_orders DISABLE TRIGGER trg_trading_orders_prevent_delete"),
        verdict="GO",
    ),
)
