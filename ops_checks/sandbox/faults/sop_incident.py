"""Faults for the Incident Response SOP: each breaks the sandbox the way the SOP fears and fails exactly one
sop item. Faults aimed at drill items (sop.2.4, sop.4.2, sop.7.1, sop.8.3) break the bot's behaviour; the SOP
steps apply them to the drill's disposable sandbox too."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from psycopg import sql

from ops_checks.access import coinbase_jwt
from ops_checks.checks.s1_preconditions.exchange import client
from ops_checks.core.http import Recorder
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import Fault, bot, chain, knob, run_sql, set_env, settle
from ops_checks.sandbox.sop_env import write_contacts


def _chmod_key(sb: Sandbox) -> None:
    Path(sb.env["COINBASE_CDP_PRIVATE_KEY_PATH"]).chmod(0o644)


def _expired_current_jwt(sb: Sandbox) -> None:
    """The bot's CURRENT_JWT was minted ten minutes ago and never regenerated."""
    key = coinbase_jwt.load_private_key(Path(sb.env["COINBASE_CDP_PRIVATE_KEY_PATH"]))
    method, path = coinbase_jwt.PROBE
    sb.env["CURRENT_JWT"] = coinbase_jwt.build_jwt(
        sb.env["COINBASE_CDP_API_KEY"], key, method, path, now=int(time.time()) - 600
    )


def _valr_fail(path: str, status: int) -> Callable[[Sandbox], None]:
    def run(sb: Sandbox) -> None:
        assert sb.valr is not None
        sb.valr.fail[path] = status

    return run


def _drop_feed(ago_s: float) -> Callable[[Sandbox], None]:
    return lambda sb: bot(sb).sop.drop_feed(ago_s)


def _stall_feed(age_s: float) -> Callable[[Sandbox], None]:
    return lambda sb: bot(sb).sop.stall_feed(age_s)


def _funding_spike(sb: Sandbox) -> None:
    assert sb.valr is not None
    sb.valr.funding_rates["BTCUSDTPERP"] = Decimal("0.0001875")  # hourly: 0.15 % per 8 h
    sb.valr.positions = [{"pair": "BTCUSDTPERP", "side": "buy", "quantity": "0.01", "markPrice": "65000"}]


def _log_error(sb: Sandbox) -> None:
    bot(sb).log.error("[MARKET_DATA] order book snapshot failed: HTTP 500 from upstream")


def _rest_big_order(sb: Sandbox) -> None:
    assert sb.target is not None
    client(sb.target, Recorder(sb.target.redactor)).place_limit_order(
        "BTCZAR", "BUY", Decimal("0.01"), Decimal("1000000"), "SOP-FAULT-BIG-ORDER"
    )


def _unrotated_log(sb: Sandbox) -> None:
    """The bot's log file was never rotated: its first line is 10 days old (rewritten in place: same inode)."""
    old = (datetime.now(UTC) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S.%f")
    with bot(sb).log_path.open("r+", encoding="utf-8") as fh:
        content = fh.read()
        fh.seek(0)
        fh.write(f"{old}Z INFO bot started (log never rotated)\n{content}")


def _role_createrole(sb: Sandbox) -> None:
    """Someone gave the bot's database role CREATEROLE "to fix a migration" and never took it back."""
    assert sb.db is not None
    sb.admin(sql.SQL("ALTER ROLE {} CREATEROLE").format(sql.Identifier(sb.db.user)).as_string(None))


def _stale_contacts(sb: Sandbox) -> None:
    write_contacts(Path(sb.env["ESCALATION_CONTACTS_FILE"]), reviewed_days_ago=45)


_UNREVIEWED_INCIDENT = (
    "INSERT INTO opscheck.ops_incidents (incident_id, opened_at, opened_by, trigger, detection, root_cause, fix, "
    "documented_by, documented_at) SELECT 'INC-' || to_char(now() - interval '3 days', 'YYYYMMDD') || '-001', "
    "now() - interval '3 days', 'sandbox-fault', 'DAILY_LOSS_LIMIT', 'alert', 'stale settings row', "
    "'settings reloaded', 'sandbox-fault', now() - interval '2 days'"
)

FAULTS: tuple[Fault, ...] = (
    Fault("cdp_key_file_644", "sop.1.1", "the CDP private key file is world-readable (644)", _chmod_key),
    Fault("cdp_jwt_expired", "sop.1.2", "the bot's CURRENT_JWT expired ten minutes ago", _expired_current_jwt),
    Fault(
        "exchange_clock_45s",
        "sop.1.3",
        "the exchange clock is 45 s ahead (JWTs fail beyond 30 s)",
        knob("valr", clock_offset_ms=45000, timestamp_window_ms=60000),
    ),
    Fault(
        "valr_auth_401_streak",
        "sop.1.4",
        "VALR answers 401 to every signed key request",
        _valr_fail("/v1/account/api-keys/current", 401),
    ),
    Fault(
        "ws_disconnects_5_per_hour",
        "sop.2.1",
        "5 websocket disconnects in the last hour",
        chain(knob("bot", feed_extra_disconnects=5), settle(0.15)),
        verdict="GO",
    ),
    Fault(
        "ws_disconnects_12_per_hour",
        "sop.2.2",
        "12 websocket disconnects in the last hour",
        chain(knob("bot", feed_extra_disconnects=12), settle(0.15)),
    ),
    Fault(
        "ws_down_6_min",
        "sop.2.3",
        "the market-data websocket has been down for 6 minutes",
        chain(_drop_feed(360), settle(0.4)),
    ),
    Fault(
        "feed_resumes_early",
        "sop.2.4",
        "the bot resumes entries the moment the feed reconnects",
        knob("bot", feed_resume_clean_s=0.0),
    ),
    Fault("standby_key_missing", "sop.3.1", "no VALR standby key configured", set_env("VALR_STANDBY_API_KEY", None)),
    Fault(
        "loss_breach_unhandled",
        "sop.4.1",
        "daily P&L at -4 % (limit 3 %) and the bot's breach handler never fired",
        chain(
            knob("bot", breach_handler=False),
            run_sql("UPDATE system_settings SET daily_pnl_pct = -0.040000 WHERE id = 1"),
            settle(0.2),
        ),
    ),
    Fault(
        "breach_orders_left_open",
        "sop.4.2",
        "a loss breach halts trading but leaves the orders open",
        knob("bot", breach_cancel_orders=False),
    ),
    Fault(
        "exchange_latency_700ms",
        "sop.5.1",
        "every VALR request takes 700 ms",
        chain(knob("valr", latency_up_ms=350, latency_down_ms=350), settle(1.6)),
    ),
    Fault(
        "funding_spike",
        "sop.6.1",
        "BTCUSDTPERP funding at 0.15 % per 8 h with a long position open",
        _funding_spike,
        verdict="GO",
    ),
    Fault(
        "kill_switch_leaves_orders",
        "sop.7.1",
        "kill-switch activation does not cancel open orders",
        knob("bot", kill_switch_cancel_orders=False),
    ),
    Fault(
        "stale_feed_6s_entries_still_open",
        "sop.8.1",
        "market data 6 s old and the bot's staleness handler does not block entries",
        chain(knob("bot", stale_block_entries=False), _stall_feed(6), settle(0.15)),
    ),
    Fault(
        "stale_feed_31s_kill_switch_off",
        "sop.8.2",
        "market data 31 s old and the bot's staleness handler never activates the kill switch",
        chain(knob("bot", stale_kill_switch=False), _stall_feed(31), settle(0.15)),
    ),
    Fault(
        "stale_entries_allowed",
        "sop.8.3",
        "the bot keeps taking entries on stale market data",
        knob("bot", stale_block_entries=False),
    ),
    Fault("bot_logged_errors", "sop.daily.1", "the bot logged an ERROR", _log_error, verdict="GO"),
    Fault(
        "latency_metric_missing",
        "sop.daily.2",
        "the bot stopped exporting its latency metric",
        knob("bot", omit_metrics=("exchange_request_latency",)),
    ),
    Fault(
        "resting_order_over_risk", "sop.daily.3", "a R10,000 order rests on VALR (MAX_RISK_ZAR R5,000)", _rest_big_order
    ),
    Fault(
        "kill_switch_never_tested",
        "sop.daily.4",
        "no kill-switch test recorded",
        run_sql(
            "ALTER TABLE circuit_breaker_events DISABLE TRIGGER USER; DELETE FROM circuit_breaker_events; "
            "ALTER TABLE circuit_breaker_events ENABLE TRIGGER USER"
        ),
    ),
    Fault("logs_not_rotated", "sop.weekly.1", "the bot's log file starts 10 days ago", _unrotated_log, verdict="GO"),
    Fault(
        "keys_not_rotated",
        "sop.monthly.1",
        "the VALR key was last rotated 40 days ago",
        run_sql(
            "UPDATE opscheck.secret_rotations SET rotated_at = now() - interval '40 days' "
            "WHERE secret_name IN ('VALR_API_KEY', 'VALR_API_SECRET')"
        ),
        verdict="GO",
    ),
    Fault(
        "runbooks_not_reviewed",
        "sop.weekly.2",
        "the runbooks were last reviewed 10 days ago (and are older)",
        run_sql(
            "UPDATE opscheck.ops_prevention_records SET performed_at = now() - interval '10 days' "
            "WHERE activity = 'runbook_review'"
        ),
        verdict="GO",
    ),
    Fault(
        "incident_not_reviewed",
        "sop.weekly.3",
        "an incident opened 3 days ago has its root cause documented but no review meeting recorded",
        run_sql(_UNREVIEWED_INCIDENT),
        verdict="GO",
    ),
    Fault(
        "backup_restore_schema_drift",
        "sop.weekly.4",
        "ai_debates gained a column on the server that the schema backups are restored into lacks",
        run_sql("ALTER TABLE ai_debates ADD COLUMN reviewer_note text DEFAULT 'added by hand'"),
    ),
    Fault(
        "bot_role_createrole",
        "sop.monthly.2",
        "the bot's database role was granted CREATEROLE",
        _role_createrole,
        verdict="GO",
    ),
    Fault(
        "dr_drill_overdue",
        "sop.monthly.3",
        "the last disaster recovery drill was 40 days ago",
        run_sql(
            "UPDATE opscheck.ops_prevention_records SET performed_at = now() - interval '40 days' "
            "WHERE activity = 'dr_drill'"
        ),
        verdict="GO",
    ),
    Fault(
        "contacts_not_reviewed",
        "sop.monthly.4",
        "the escalation contact list was last reviewed 45 days ago",
        _stale_contacts,
        verdict="GO",
    ),
)
