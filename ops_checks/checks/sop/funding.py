"""Incident SOP §6 (funding rate spike): for each configured perpetual pair (``PERPETUAL_PAIRS``), the latest
settled funding rate normalised to 8 h; |rate| > 0.1 % is a warning, with the position impact when a
position exists (quantity × mark price × rate per 8 h; a long pays a positive rate). With ``PERPETUAL_PAIRS`` unset
the item is *not applicable* only when the operator declared no perpetuals (``OPSCHECK_SCOPE=perpetuals=none``),
else *not verified*."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ops_checks.access import scope
from ops_checks.access.config import Target
from ops_checks.access.valr.client import ValrError
from ops_checks.checks.bot_sources import valr_cause
from ops_checks.checks.s1_preconditions.exchange import client
from ops_checks.core import readings
from ops_checks.core.http import Recorder
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, passed

LIMIT_8H = Decimal("0.001")


def pairs(t: Target) -> list[str]:
    return [p.strip().upper() for p in t.value("PERPETUAL_PAIRS").split(",") if p.strip()]


class Malformed(ValueError):
    """The exchange's answer is not the shape this check understands; ``str()`` names the value."""


def _finite(value: Any, what: str, *, signed: bool = True) -> Decimal:
    """A finite ASCII number of either sign (``readings.amount``); Malformed naming the value otherwise."""
    try:
        return readings.amount(value, what, signed=signed, text=True)
    except readings.BadReading as exc:
        raise Malformed(str(exc)) from None


def _when(value: Any, what: str) -> datetime:
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Malformed(f"{what} is {str(value)[:30]!r}, not an ISO-8601 time") from None
    if when.tzinfo is None:
        raise Malformed(f"{what} is {str(value)[:30]!r}, without a time zone")
    return when


def rate_8h(rows: list[Any], pair: str = "") -> tuple[Decimal, Decimal]:
    """(latest rate per settlement, normalised to 8 h) from history rows, newest first; Malformed otherwise."""
    for n, row in enumerate(rows[:2], 1):
        if not isinstance(row, dict):
            raise Malformed(f"funding history {pair} row {n} is {type(row).__name__} {str(row)[:30]!r}, not an object")
    latest = _finite(rows[0].get("fundingRate"), f"{pair} fundingRate")
    hours = Decimal(1)
    if len(rows) > 1:
        t0 = _when(rows[0].get("fundingTime"), f"{pair} fundingTime")
        t1 = _when(rows[1].get("fundingTime"), f"{pair} fundingTime")
        seconds = Decimal(int(abs((t0 - t1).total_seconds())))
        hours = seconds / 3600 if seconds > 0 else Decimal(1)
    return latest, latest * 8 / hours


def impact(position: dict[str, Any], rate: Decimal) -> Decimal:
    qty = _finite(position.get("quantity"), "position quantity", signed=False)
    price = _finite(position.get("markPrice") or position.get("averageEntryPrice"), "position price", signed=False)
    sign = 1 if str(position.get("side", "")).lower() in ("buy", "long") else -1
    return -sign * qty * price * rate  # negative: the position pays


def funding_within_limit(t: Target) -> CheckResult:
    """sop.6.1 (warning)."""
    expected = "|funding| <= 0.1 % per 8 h"
    wanted = pairs(t)
    if (gated := scope.gate(t.env, scope.PERPETUALS, bool(wanted), "PERPETUAL_PAIRS")) is not None:
        return gated
    rec = Recorder(t.redactor)
    lines, spikes = [], []
    try:
        valr = client(t, rec)
        by_pair = {str(p.get("pair", "")).upper(): p for p in valr.open_positions()}
        for pair in wanted:
            rows = valr.funding_history(pair, limit=2)
            if not rows:
                raise Malformed(f"no funding history for {pair}")
            per, per8 = rate_8h(rows, pair)
            line = f"{pair}: {per * 100:+.4f}% per settlement = {per8 * 100:+.4f}% per 8 h"
            if pair in by_pair:
                line += f"; position impact {impact(by_pair[pair], per8):+.2f} (quote) per 8 h"
            lines.append(line)
            if abs(per8) > LIMIT_8H:
                spikes.append(line)
    except ValrError as exc:
        return failed(
            "unreadable",
            expected,
            f"funding rate unreadable: {exc}",
            Evidence("HTTP", rec.render()),
            cause=valr_cause(t, exc, "the funding history"),
        )
    except Malformed as exc:
        return failed(
            "unreadable",
            expected,
            f"funding rate unreadable: {exc}",
            Evidence("HTTP", rec.render()),
            cause=Cause(
                "exchange_error",
                "VALR funding history",
                f"VALR's funding history: {exc}",
                "check PERPETUAL_PAIRS names VALR perpetual pairs (e.g. BTCUSDTPERP) and VALR's "
                "answer in the evidence; re-run",
            ),
        )
    ev = (Evidence("funding", "\n".join(lines)), Evidence("HTTP", rec.render()))
    if spikes:
        return failed(
            "; ".join(spikes),
            expected,
            f"funding spike: {'; '.join(spikes)}",
            *ev,
            cause=Cause(
                "funding_spike",
                "perpetual funding rate",
                f"funding beyond ±0.1 % per 8 h: {'; '.join(spikes)}",
                "SOP §6: compute the impact (python scripts/funding_impact.py --position-size $SIZE) and reduce or "
                "close the position if it exceeds the daily target",
            ),
        )
    return passed("; ".join(lines), expected, "; ".join(lines), *ev)
