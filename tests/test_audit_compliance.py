"""Runbook §7.4 monthly compliance report, §7.6 archival rules, and the audit settings."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from ops_checks.access.config import ConfigError, DbParams
from ops_checks.checks.s7_audit.audit_retention import archival_problems
from ops_checks.core import settings
from ops_checks.core.redaction import Redactor
from ops_checks.procedures import compliance
from ops_checks.procedures.audit_files import export_range
from ops_checks.sandbox import postgres


def this_month() -> date:
    return datetime.now(UTC).date().replace(day=1)


def test_report_has_sections_chart_and_csvs_without_network(params: DbParams, tmp_path: Path) -> None:
    r = compliance.generate(params, Redactor(), this_month(), tmp_path / "m", "auditor")
    assert set(r.files) == {
        "report.md",
        "report.html",
        "daily_pnl.svg",
        "executive_summary.csv",
        "kill_switch_events.csv",
        "policy_overrides.csv",
        "daily_pnl.csv",
    }
    html = (tmp_path / "m" / "report.html").read_text()
    for title in ("1. Executive Summary", "2. Kill Switch Events", "3. Policy Override Analysis", "4. Daily P&amp;L"):
        assert title in html
    assert "<svg" in html and "<script" not in html
    assert re.findall(r"(?:src|href)=\"https?://", html) == []
    assert "![Daily net P&L](daily_pnl.svg)" in (tmp_path / "m" / "report.md").read_text()
    assert r.executive["total_decisions"] > 0 and not r.problems
    assert [p.name for p in tmp_path.iterdir()] == ["m"]


def test_filled_trade_without_pnl_makes_the_report_incomplete(
    params: DbParams, database: postgres.Database, tmp_path: Path
) -> None:
    with psycopg.connect(database.admin_db_dsn, autocommit=True) as conn:
        conn.execute(
            "WITH s AS (INSERT INTO signals (signal_id, symbol, side, price, quantity, raw_payload, source_ip) "
            "VALUES ('NOPNL-1', 'BTCZAR', 'BUY', 1250000, 0.001, '{}'::jsonb, '127.0.0.1') RETURNING correlation_id) "
            "INSERT INTO trading_orders (correlation_id, order_id, pair, side, quantity, status, execution_mode) "
            "SELECT correlation_id, 'NOPNL-1', 'BTCZAR', 'BUY', 0.001, 'FILLED', 'LIVE' FROM s"
        )
    try:
        r = compliance.generate(params, Redactor(), this_month(), tmp_path / "m", "auditor")
        assert r.problems and "without a recorded P&L" in r.problems[0]
    finally:
        with psycopg.connect(database.admin_db_dsn, autocommit=True) as conn:  # past the bot's prevent_delete
            conn.execute("SET session_replication_role = replica")
            conn.execute("DELETE FROM trading_orders WHERE order_id = 'NOPNL-1'")
            conn.execute("DELETE FROM signals WHERE signal_id = 'NOPNL-1'")


def test_chart_bars_per_day_and_signs() -> None:
    rows = [{"date": date(2024, 2, 3), "net_pnl": Decimal("-150.25")}, {"date": date(2024, 2, 4), "net_pnl": 300}]
    svg = compliance.daily_pnl_svg(date(2024, 2, 1), rows)
    assert svg.count("<rect ") == 1 + 29  # background + every day of a leap February
    assert "2024-02-03: -150.25 ZAR" in svg and "#c62828" in svg and "#2e7d32" in svg


def test_month_parsing_and_bounds() -> None:
    assert compliance.month_bounds(date(2024, 12, 1)) == (
        datetime(2024, 12, 1, tzinfo=UTC),
        datetime(2025, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(compliance.ComplianceError):
        compliance.parse_month("2024-13")


def test_archival_needs_two_distinct_approvers_and_the_full_retention() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    ok = {
        "table_name": "policy_decision_audit",
        "archived_before": now - timedelta(days=365 * 8),
        "approved_by": "alice",
        "second_approver": "bob",
        "archived_at": now,
    }
    assert archival_problems([ok], now, 7) == []
    assert "two distinct approvals" in archival_problems([{**ok, "second_approver": "Alice"}], now, 7)[0]
    assert "inside the 7-year" in archival_problems([{**ok, "archived_before": now - timedelta(days=365)}], now, 7)[0]


def test_the_export_window_reads_the_validated_setting() -> None:
    """The audit settings are the settings model's (a malformed one is exit 2: tests/test_settings.py)."""
    with pytest.raises(ConfigError, match="^OPSCHECK_AUDIT_WINDOW_DAYS='soon': not a whole number of days$"):
        settings.load({"OPSCHECK_AUDIT_MAX_GAP_S": "60", "OPSCHECK_AUDIT_WINDOW_DAYS": "soon"})
    s = settings.load({"OPSCHECK_AUDIT_MAX_GAP_S": "60"})
    assert s.audit_max_gap_s == 60 and s.audit_window_days == 30 and s.audit_export_hours == 24
    start, end = export_range(s.audit_export_hours, datetime(2024, 5, 1, 12, 30, 45, tzinfo=UTC))
    assert end == datetime(2024, 5, 1, 12, 30, tzinfo=UTC) and end - start == timedelta(hours=24)
