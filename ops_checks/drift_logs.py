"""Runbook §8.6.4 and §8.7.4: the bot's own time synchroniser, read from its log lines.

``[TIME_SYNC] drift_ms=<local − exchange> is_within_tolerance=<bool>`` after each sync (or
``[TIME_SYNC] failure …``), and ``[EXCHANGE_TIME_DRIFT] drift_ms=… NEUTRAL state triggered`` when the drift
exceeds the tolerance (runbook §8.2.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ops_checks.config import Target
from ops_checks.drift import Measurement, agreement_allowance_ms
from ops_checks.logs import LogError, LogLine, recent_lines
from ops_checks.result import CheckResult, Evidence, failed, passed

SYNC = re.compile(r"\[TIME_SYNC\]")
READING = re.compile(r"\[TIME_SYNC\]\s+drift_ms=(-?\d+(?:\.\d+)?)\s+is_within_tolerance=(True|False|true|false)")
DRIFT = re.compile(r"\[EXCHANGE_TIME_DRIFT\]")
NEUTRAL_FOLLOWS_S = 5


@dataclass(frozen=True)
class Reading:
    line: LogLine
    drift_ms: Decimal
    within: bool


def _lines(t: Target) -> tuple[list[LogLine], list[LogLine]]:
    since = datetime.now(UTC) - timedelta(seconds=t.thresholds.log_window_s)
    lines = [ln for ln in recent_lines(t.log_dir, since) if SYNC.search(ln.text) or DRIFT.search(ln.text)]
    lines.sort(key=lambda ln: ln.at)
    return [ln for ln in lines if SYNC.search(ln.text)], [ln for ln in lines if DRIFT.search(ln.text)]


def _reading(line: LogLine) -> Reading | None:
    m = READING.search(line.text)
    return Reading(line, Decimal(m.group(1)), m.group(2).lower() == "true") if m else None


def _excerpt(t: Target, lines: list[LogLine]) -> Evidence:
    text = "\n".join(f"{ln.at.isoformat()} {ln.file}: {ln.text}" for ln in lines[-30:])
    return Evidence("time-sync log lines", t.redactor.text(text) or "(none in window)")


def fresh_s(t: Target) -> int:
    """How old the latest sync line may be (the bot syncs periodically; default max(log_fresh_s, 10) s)."""
    raw = t.value("OPSCHECK_TIME_SYNC_FRESH_S")
    return int(raw) if raw.isdigit() else max(t.thresholds.log_fresh_s, 10)


def time_sync_logs_ok(t: Target) -> CheckResult:
    """8.6.4: the latest ``[TIME_SYNC]`` line is recent, a success, within tolerance, and no
    ``[EXCHANGE_TIME_DRIFT]`` line appears in the log window."""
    expected = "No DRIFT errors"
    window = t.thresholds.log_window_s
    try:
        syncs, drifts = _lines(t)
    except LogError as exc:
        return failed("no logs", expected, str(exc))
    ev = _excerpt(t, sorted(syncs[-20:] + drifts[-10:], key=lambda ln: ln.at))
    if drifts:
        last = drifts[-1]
        return failed(
            f"{len(drifts)} drift lines",
            expected,
            f"{len(drifts)} [EXCHANGE_TIME_DRIFT] line(s) in the last {window} s, latest at "
            f"{last.at.isoformat(timespec='seconds')}: {last.text[:120]}",
            ev,
        )
    if not syncs:
        return failed("no [TIME_SYNC] line", expected, f"the bot logged no [TIME_SYNC] line in the last {window} s", ev)
    latest = syncs[-1]
    age = (datetime.now(UTC) - latest.at).total_seconds()
    limit = fresh_s(t)
    if age > limit:
        return failed(f"{age:.0f} s old", f"within {limit} s", f"the bot's last time sync was {age:.0f} s ago", ev)
    reading = _reading(latest)
    if reading is None:
        return failed(latest.text[:120], expected, f"the bot's latest time sync failed: {latest.text[:120]}", ev)
    if not reading.within:
        return failed(latest.text[:120], expected, f"the bot reports drift beyond tolerance: {latest.text[:120]}", ev)
    observed = f"drift_ms={reading.drift_ms} is_within_tolerance=True {age:.1f} s ago; no [EXCHANGE_TIME_DRIFT]"
    return passed(observed, expected, observed, ev)


def neutral_guard(t: Target, m: Measurement) -> CheckResult:
    """8.7.4 (> 1000 ms → the system enters NEUTRAL): the bot's guard acts on the true drift at the runbook's
    threshold. Its latest drift reading agrees with ours (its ``drift_ms`` is local − exchange, so ≈ −offset)
    within our error bound plus an allowance for its own; every reading's ``is_within_tolerance`` follows
    |drift_ms| ≤ 1000; every reading beyond it is followed by ``[EXCHANGE_TIME_DRIFT] … NEUTRAL``; and when we
    measure a drift beyond 1000 ms the bot is NEUTRAL."""
    limit = t.thresholds.drift_max_ms
    expected = f"NEUTRAL exactly above {limit} ms of true drift"
    if m.estimate is None:
        return failed("not measured", expected, str(m.error), *m.evidence())
    est = m.estimate
    try:
        syncs, drifts = _lines(t)
    except LogError as exc:
        return failed("no logs", expected, str(exc), *m.evidence())
    ev = [_excerpt(t, sorted(syncs[-20:] + drifts[-10:], key=lambda ln: ln.at)), *m.evidence()]
    readings = [r for r in (_reading(ln) for ln in syncs) if r is not None]
    if not readings:
        return failed("no reading", expected, "the bot logged no [TIME_SYNC] drift reading in the window", *ev)
    wrong = [r for r in readings if r.within != (abs(r.drift_ms) <= limit)]
    if wrong:
        r = wrong[-1]
        return failed(
            r.line.text[:120],
            expected,
            f"the bot's guard does not use the {limit} ms threshold: {r.line.text[:100]}",
            *ev,
        )
    for r in readings:
        if not r.within and not any(
            r.line.at <= d.at <= r.line.at + timedelta(seconds=NEUTRAL_FOLLOWS_S) for d in drifts
        ):
            return failed(
                r.line.text[:120], expected, f"drift beyond tolerance without NEUTRAL: {r.line.text[:100]}", *ev
            )
    latest = readings[-1]
    gap = abs(latest.drift_ms + est.offset_ms)
    allowed = est.bound_ms + agreement_allowance_ms(t)
    observed = f"bot drift_ms={latest.drift_ms} (within={latest.within}); measured {est.summary()}"
    if gap > allowed:
        return failed(
            observed,
            expected,
            f"the bot's drift reading {latest.drift_ms} ms disagrees with the measured offset "
            f"{est.offset_ms:+.1f} ± {est.bound_ms:.1f} ms by {gap:.0f} ms (> {allowed:.0f}): its NEUTRAL guard acts "
            "on another clock (container clock? runbook §8.4.2)",
            *ev,
        )
    if est.least_ms > limit and latest.within:
        return failed(observed, expected, f"drift measured beyond {limit} ms but the bot is not NEUTRAL", *ev)
    state = "NEUTRAL" if not latest.within else "not NEUTRAL (none required)"
    return passed(observed, expected, f"{observed}: bot {state}, {len(readings)} readings consistent", *ev)
