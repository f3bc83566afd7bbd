"""Unit tests of the incident-SOP arithmetic: cadence selection, funding normalisation, percentiles, breaches."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ops_checks.catalogue import cadence
from ops_checks.checks.sop.funding import impact, rate_8h
from ops_checks.checks.sop.latency import percentile
from ops_checks.checks.sop.loss import LossState
from ops_checks.cli.app import app


def test_cadence_selection() -> None:
    assert cadence.parse("weekly, Monthly") == {"weekly", "monthly"} and cadence.parse(None) == set()
    with pytest.raises(ValueError, match="unknown cadence yearly"):
        cadence.parse("yearly")
    assert cadence.of_item("sop.weekly.1") == "weekly" and cadence.of_item("sop.daily.1") is None
    assert cadence.selected("sop.daily.4", set()) and not cadence.selected("sop.monthly.1", {"weekly"})
    assert cadence.selected("4.4.3", set())


def test_cli_rejects_an_unknown_cadence() -> None:
    out = CliRunner().invoke(app, ["preflight", "--cadence", "yearly", "--no-html"])
    assert out.exit_code == 2 and "unknown cadence" in out.output


def test_hourly_funding_normalised_to_8h() -> None:
    rows = [
        {"fundingRate": "0.0001875", "fundingTime": "2025-01-01T02:00:00.000Z"},
        {"fundingRate": "0.0001", "fundingTime": "2025-01-01T01:00:00.000Z"},
    ]
    per, per8 = rate_8h(rows)
    assert per == Decimal("0.0001875") and per8 == Decimal("0.0015")
    eight_hourly = [rows[0] | {"fundingRate": "0.0005"}, rows[1] | {"fundingTime": "2024-12-31T18:00:00.000Z"}]
    assert rate_8h(eight_hourly)[1] == Decimal("0.0005")
    long = {"side": "buy", "quantity": "0.01", "markPrice": "65000"}
    assert impact(long, Decimal("0.0015")) == Decimal("-0.975")  # a long pays a positive rate
    assert impact(long | {"side": "sell"}, Decimal("0.0015")) == Decimal("0.975")


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95 and percentile(values, 99) == 99
    assert percentile([700.0, 10.0], 95) == 700


def test_breach_kinds() -> None:
    base = LossState(False, None, Decimal("-0.01"), Decimal("0.03"), 0, 3)
    assert base.breach is None
    assert LossState(False, None, Decimal("-0.03"), Decimal("0.03"), 0, 3).breach == "DAILY_LOSS_LIMIT"
    assert LossState(False, None, Decimal("0.01"), Decimal("0.03"), 3, 3).breach == "MAX_CONSECUTIVE_LOSSES"


def test_sop_figure_without_a_declared_source_is_not_verified(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SOP names no metric for its figures and the real bot exports none: with no source declared the item is
    not verified, its cause naming the env line to declare; it never fails for a name the suite chose."""
    from types import SimpleNamespace

    from ops_checks.access.profile import REAL_BOT
    from ops_checks.checks.sop import feed

    monkeypatch.setattr(feed, "scrape", lambda t: pytest.fail("no source declared: nothing to scrape"))
    t = SimpleNamespace(profile=REAL_BOT, redactor=None, env={})
    r = feed.stale_blocks_entries(t)  # type: ignore[arg-type]
    assert r.status.value == "not_verified" and "websocket_disconnects_last_hour" not in r.reason
    assert r.cause is not None and r.cause.kind == "source_undeclared" and "market-data age" in r.cause.detail
    assert "BOT_METRIC_MARKET_DATA_AGE=<metric name> in the env file" in r.cause.remedy
    ws = feed.disconnects_below_critical(t)  # type: ignore[arg-type]
    assert ws.cause is not None and "BOT_METRIC_WEBSOCKET_DISCONNECTS=<metric name>" in ws.cause.remedy
    assert "OPSCHECK_SCOPE=websocket_feed=none" in ws.cause.remedy


def test_declared_sop_metric_the_bot_lacks_names_both_sides(monkeypatch: pytest.MonkeyPatch) -> None:
    """A declared metric the bot does not export fails naming the metric, its declaration and what the bot has."""
    from types import SimpleNamespace

    from ops_checks.access.profile import REAL_BOT, profile_from_env
    from ops_checks.access.prometheus import Metrics
    from ops_checks.checks.sop import feed, loss

    real = Metrics({"trade_signals_received_total": [({}, 3.0)]}, "", REAL_BOT.metric_names)
    monkeypatch.setattr(feed, "scrape", lambda t: real)
    profile = profile_from_env(
        {
            "BOT_METRIC_MARKET_DATA_AGE": "md_age_s",
            "BOT_METRIC_REDUCE_ONLY": "ro",
            "BOT_METRIC_ALERTS_SENT": "alerts_total",
        }
    )
    t = SimpleNamespace(profile=profile, redactor=None, env={})
    r = feed.stale_blocks_entries(t)  # type: ignore[arg-type]
    assert r.status.value == "failed" and r.reason.startswith(
        "SOP market-data age (BOT_METRIC_MARKET_DATA_AGE): the bot exports no md_age_s (it exports "
        "trade_signals_received_total, "
    )
    assert r.cause is not None and (r.cause.kind, r.cause.subject) == ("source_absent", "md_age_s")
    monkeypatch.setattr(loss, "scrape", lambda t: real)
    monkeypatch.setattr(loss, "open_orders", lambda t, rec: [])
    state = LossState(True, "DAILY_LOSS_LIMIT", Decimal("-0.05"), Decimal("0.03"), 0, 3)
    missing = loss.breach_actions(t, state)  # type: ignore[arg-type]
    assert [m.split(":")[0] for m in missing] == ["SOP §4 reduce-only state", "SOP §4 alert sent"]
    assert "alerts_total" in missing[1] and "equity_zar_gauge" in missing[1]
    undeclared = SimpleNamespace(profile=REAL_BOT, redactor=None, env={})
    assert loss.breach_actions(undeclared, state) == []  # type: ignore[arg-type] # not read: not declared


@pytest.mark.parametrize(
    "rows",
    [
        [1.5],
        [{"fundingRate": "NaN"}],
        [{"fundingRate": True}],
        ["x"],
        [
            {"fundingRate": "0.0001", "fundingTime": "2026-11-26T00:00:00Z"},
            {"fundingRate": "0.0001", "fundingTime": "yesterday"},
        ],
    ],
)
def test_funding_history_of_the_wrong_shape_is_named(rows: list[object]) -> None:
    """Issue 13 §9: sop.6.1 reported "'float' object is not subscriptable" to the operator."""
    from ops_checks.checks.sop.funding import Malformed, rate_8h

    with pytest.raises(Malformed) as err:
        rate_8h(rows, "BTCZARPERP")
    assert "subscriptable" not in str(err.value) and "BTCZARPERP" in str(err.value)


@pytest.mark.parametrize("real", [False, True])
def test_error_lines_are_found_in_either_log_format(tmp_path: Path, real: bool) -> None:
    """sop.daily.1 reads the level the real bot writes (main.py: ``… | ERROR | logger | message``) as well as the
    reference bot's (``…Z ERROR message``); a log without timestamps proves no absence of errors."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from ops_checks.checks.sop import prevention
    from ops_checks.core.redaction import Redactor

    now = datetime.now(UTC)
    stamp = f"{now:%Y-%m-%d %H:%M:%S}" if real else f"{now:%Y-%m-%dT%H:%M:%S.%f}Z"
    line = "{} | {} | ORCHESTRATOR | {}" if real else "{} {} {}"
    log = tmp_path / "bot.log"
    log.write_text(line.format(stamp, "INFO", "heartbeat") + "\n" + line.format(stamp, "ERROR", "[DB-500] boom") + "\n")
    t = SimpleNamespace(log_dir=tmp_path, thresholds=SimpleNamespace(log_window_s=300), redactor=Redactor())
    result = prevention.error_logs_clean(t)  # type: ignore[arg-type]
    assert result.status.value == "failed" and "1 ERROR line(s)" in result.reason and "[DB-500] boom" in result.reason
    assert result.cause is not None and result.cause.remedy
    log.write_text(line.format(stamp, "WARNING", "slow") + "\n")
    assert prevention.error_logs_clean(t).ok  # type: ignore[arg-type]
    log.write_text("INFO:     Started server process [7]\nERROR:    boom\n")  # uvicorn, no time: nothing to judge
    blind = prevention.error_logs_clean(t)  # type: ignore[arg-type]
    assert blind.status.value == "not_verified" and blind.cause is not None and blind.cause.kind == "log_format"
