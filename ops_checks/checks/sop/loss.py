"""Incident SOP §4 (daily loss breach): P&L and consecutive losses against system_settings, and the four
automatic actions a breach must coincide with — circuit breaker active, reduce-only, no open orders on the
exchange, an alert sent. ``daily_pnl_pct`` and ``daily_loss_limit_pct`` are fractions (0.03 = 3 %). The bot's
reduce-only state and its alerts are declared sources (``BOT_METRIC_REDUCE_ONLY``, ``BOT_METRIC_ALERTS_SENT``: the
SOP names none); a breach whose actions cannot be read for want of a declaration is *not verified*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.access.prometheus import BadMetric, MetricsError, scrape
from ops_checks.access.valr.client import ValrError
from ops_checks.checks import givens
from ops_checks.checks.bot_sources import undeclared
from ops_checks.checks.s1_preconditions.exchange import open_orders
from ops_checks.core import readings
from ops_checks.core.http import Recorder
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed

SETTINGS = (
    "SELECT circuit_breaker_active, circuit_breaker_reason, daily_pnl_pct, daily_loss_limit_pct, consecutive_losses,"
    " max_consecutive_losses FROM system_settings WHERE id = %s"
)
NO_ROW = "system_settings row id 1 missing: the kill switch and the loss limits are unknown"
REDUCE_ONLY, ALERTS = "sop_metric_reduce_only", "sop_metric_alerts_sent"


def settings_cause(problem: str) -> Cause:
    """The bot's settings row missing or holding an impossible value: one cause for every item reading it."""
    return Cause(
        "bot_data",
        "system_settings row 1",
        f"the bot's system_settings row: {problem}",
        "restore system_settings row id 1 from the bot's migrations (TRADE_BOT database/migrations) with sane values "
        "(daily_loss_limit_pct 0 < x < 1, max_consecutive_losses >= 1), then re-run",
    )


def unreadable(t: Target, exc: DbError) -> CheckResult:
    """system_settings cannot be read: not verified, on the database's or the table's cause."""
    if str(exc).startswith("cannot connect"):
        return givens.database_blocked(t, str(exc))
    return not_verified(f"system_settings unreadable: {exc}", cause=givens.table_cause(t, "system_settings", str(exc)))


@dataclass(frozen=True)
class LossState:
    active: bool
    reason: str | None
    pnl: Decimal
    limit: Decimal
    losses: int
    max_losses: int

    @property
    def breach(self) -> str | None:
        if self.pnl <= -self.limit:
            return "DAILY_LOSS_LIMIT"
        if self.losses >= self.max_losses:
            return "MAX_CONSECUTIVE_LOSSES"
        return None

    def describe(self) -> str:
        return (
            f"daily P&L {self.pnl * 100:+.2f}% vs limit -{self.limit * 100:.2f}%, "
            f"consecutive losses {self.losses}/{self.max_losses}"
        )


def read(t: Target) -> tuple[LossState | None, Evidence]:
    """The row's loss state, None when there is no row; ``readings.BadReading`` (one line naming the column and
    the value) for an impossible value: NULL, NaN, a negative count …"""
    with connect(t.db, t.redactor) as db:
        row = db.one(SETTINGS, (1,))
        ev = db.log.evidence()
    if row is None:
        return None, ev
    try:
        state = LossState(
            readings.flag(row["circuit_breaker_active"], "circuit_breaker_active"),
            row["circuit_breaker_reason"],
            readings.amount(row["daily_pnl_pct"], "daily_pnl_pct", signed=True),
            readings.amount(row["daily_loss_limit_pct"], "daily_loss_limit_pct"),
            readings.count(row["consecutive_losses"], "consecutive_losses"),
            readings.count(row["max_consecutive_losses"], "max_consecutive_losses"),
        )
    except readings.BadReading as exc:
        raise readings.BadReading(f"system_settings {exc}") from None
    return state, ev


def breach_actions(t: Target, state: LossState) -> list[str]:
    """What is missing of the four automatic actions (empty: all four hold). The reduce-only state and the alert
    are read only when their sources are declared (``undeclared`` says when not)."""
    missing = []
    if not state.active:
        missing.append("circuit breaker not active")
    try:
        ro, alerts = t.profile.sop_metric_reduce_only, t.profile.sop_metric_alerts_sent  # REDUCE_ONLY, ALERTS
        if ro is None or alerts is None:  # not declared: what ``undeclared`` reports
            raise _Undeclared
        m = scrape(t)
        breach = state.breach or ""
        if ro not in m.samples:
            missing.append(m.absent(ro, "SOP §4 reduce-only state"))
        elif not _metric(lambda: m.flag(ro), missing):
            missing.append("bot not reduce-only")
        if alerts not in m.samples:
            missing.append(m.absent(alerts, "SOP §4 alert sent"))
        elif m.value(alerts, reason=breach) is None or not _metric(
            lambda: m.number(alerts, whole=True, reason=breach), missing
        ):
            missing.append(f"no {state.breach} alert sent")
    except MetricsError as exc:
        missing.append(f"bot state unreadable ({exc})")
    except _Undeclared:
        pass
    rec = Recorder(t.redactor)
    try:
        orders = open_orders(t, rec)
        if orders:
            missing.append(f"{len(orders)} order(s) still open on VALR")
    except ValrError as exc:
        missing.append(f"open orders unreadable ({exc})")
    return missing


class _Undeclared(Exception):
    """The reduce-only or alert source is not declared: those two actions are not read."""


def _metric(read: Callable[[], float | bool], problems: list[str]) -> float | bool:
    """``read()``; an impossible value (BadMetric) is noted in ``problems`` and counts as not set (0)."""
    try:
        return read()
    except BadMetric as exc:
        problems.append(str(exc))
        return 0


def loss_breach_handled(t: Target) -> CheckResult:
    """sop.4.1: no breach, or a breach with all four automatic actions in place."""
    expected = "within limits, or breached with circuit breaker, reduce-only, 0 open orders, alert"
    try:
        state, ev = read(t)
    except DbError as exc:
        return unreadable(t, exc)
    except readings.BadReading as exc:
        return failed("impossible value", expected, str(exc), cause=settings_cause(str(exc)))
    if state is None:
        return failed("no row", expected, NO_ROW, ev, cause=settings_cause(NO_ROW))
    if state.breach is None:
        return passed(state.describe(), expected, f"no breach: {state.describe()}", ev)
    missing = breach_actions(t, state)
    if missing:
        detail = f"{state.breach} breached but {'; '.join(missing)}"
        return failed(
            state.describe(),
            expected,
            detail,
            ev,
            cause=Cause(
                "loss_breach",
                "daily loss breach",
                detail,
                "activate the kill switch now (opscheck kill-switch activate; SOP §4/§7), cancel the open orders, "
                "alert the team; then fix the bot's breach handler",
            ),
        )
    if (unknown := undeclared(t, REDUCE_ONLY, ALERTS)) is not None:
        unknown.reason = f"{state.breach} breached, circuit breaker active, no open orders; {unknown.reason}"
        unknown.evidence.append(ev)
        return unknown
    return passed(
        state.describe(), expected, f"{state.breach}: trading halted, reduce-only, no open orders, alerted", ev
    )


def breach_settings_sane(t: Target) -> CheckResult:
    """sop.4.2 on live (read-only): the limits that drive the automatic halt are set to usable values."""
    expected = "0 < daily_loss_limit_pct < 1 and max_consecutive_losses >= 1"
    try:
        state, ev = read(t)
    except DbError as exc:
        return unreadable(t, exc)
    except readings.BadReading as exc:
        return failed("impossible value", expected, str(exc), cause=settings_cause(str(exc)))
    if state is None:
        return failed("no row", expected, NO_ROW, ev, cause=settings_cause(NO_ROW))
    if not (0 < state.limit < 1) or state.max_losses < 1:
        detail = f"breach limits unusable: {state.describe()}"
        return failed(state.describe(), expected, detail, ev, cause=settings_cause(detail))
    return passed(state.describe(), expected, f"limits set (drill: sandbox only): {state.describe()}", ev)
