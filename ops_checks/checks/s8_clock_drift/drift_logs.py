"""Runbook §8.6.4 and §8.7.4: the bot's own time synchroniser, read from its log lines.

``[TIME_SYNC] drift_ms=<local − exchange> is_within_tolerance=<bool>`` after each sync (or
``[TIME_SYNC] failure …``), and ``[EXCHANGE_TIME_DRIFT] drift_ms=… NEUTRAL state triggered`` when the drift
exceeds the tolerance (runbook §8.2.2). The tags come from the bot profile (``log_time_sync_tag``,
``log_drift_tag``). The real bot (TRADE_BOT v1.9.0) writes neither: its ExchangeTimeSynchronizer would log
``Exchange time sync: drift_ms=N`` (DEBUG) and ``[TPP-006] Exchange clock drift exceeded threshold``, but nothing
in ``app/`` creates one; a missing tag fails naming both the runbook's line and the bot's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ops_checks.checks.s1_preconditions.logs import LogError, LogLine, recent_lines
from ops_checks.checks.s8_clock_drift.drift import Measurement, agreement_allowance_ms
from ops_checks.core import readings
from ops_checks.core.result import CheckResult, Evidence, failed, passed
from ops_checks.target.config import Target

NEUTRAL_FOLLOWS_S = 5
READING_TAIL = r"\s+drift_ms=(-?[0-9]+(?:\.[0-9]+)?)\s+is_within_tolerance=(True|False|true|false)"


def _sync(t: Target) -> re.Pattern[str]:
    return re.compile(re.escape(t.profile.log_time_sync_tag))


def _drift(t: Target) -> re.Pattern[str]:
    return re.compile(re.escape(t.profile.log_drift_tag))


def _reading_re(t: Target) -> re.Pattern[str]:
    return re.compile(re.escape(t.profile.log_time_sync_tag) + READING_TAIL)


@dataclass(frozen=True)
class Reading:
    line: LogLine
    drift_ms: Decimal
    within: bool


def _lines(t: Target) -> tuple[list[LogLine], list[LogLine]]:
    since = datetime.now(UTC) - timedelta(seconds=t.thresholds.log_window_s)
    sync, drift = _sync(t), _drift(t)
    lines = [ln for ln in recent_lines(t.log_dir, since) if sync.search(ln.text) or drift.search(ln.text)]
    lines.sort(key=lambda ln: ln.at)
    return [ln for ln in lines if sync.search(ln.text)], [ln for ln in lines if drift.search(ln.text)]


def _reading(t: Target, line: LogLine) -> Reading | None:
    m = _reading_re(t).search(line.text)
    drift = readings.decimal_text(m.group(1)) if m else None
    if m is None or drift is None or abs(drift) > readings.CEILING:
        return None
    return Reading(line, drift, m.group(2).lower() == "true")


def _no_sync_reason(t: Target, window: int) -> str:
    """No runbook time-sync line: name the runbook's tag and say whether the bot's own line is there instead."""
    tag, own = t.profile.log_time_sync_tag, t.profile.bot_time_sync_log
    since = datetime.now(UTC) - timedelta(seconds=window)
    try:
        theirs = sum(1 for ln in recent_lines(t.log_dir, since) if own in ln.text)
    except LogError:
        theirs = 0
    bot = f"the bot writes {theirs} '{own}…' line(s) instead" if theirs else f"nor its own '{own}…' line"
    return f"runbook §8.2 expects {tag} lines; the bot logged no {tag} line in the last {window} s ({bot})"


def _excerpt(t: Target, lines: list[LogLine]) -> Evidence:
    text = "\n".join(f"{ln.at.isoformat()} {ln.file}: {ln.text}" for ln in lines[-30:])
    return Evidence("time-sync log lines", t.redactor.text(text) or "(none in window)")


def fresh_s(t: Target) -> int:
    """How old the latest sync line may be (``OPSCHECK_TIME_SYNC_FRESH_S``; the bot syncs periodically; default
    max(log_fresh_s, 10) s)."""
    fresh = t.thresholds.time_sync_fresh_s
    return fresh if fresh is not None else max(t.thresholds.log_fresh_s, 10)


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
            f"{len(drifts)} {t.profile.log_drift_tag} line(s) in the last {window} s, latest at "
            f"{last.at.isoformat(timespec='seconds')}: {last.text[:120]}",
            ev,
        )
    if not syncs:
        tag = t.profile.log_time_sync_tag
        return failed(f"no {tag} line", expected, _no_sync_reason(t, window), ev)
    latest = syncs[-1]
    try:
        age = readings.age_s(latest.at, datetime.now(UTC), f"the latest {t.profile.log_time_sync_tag} line")
    except readings.BadReading as exc:
        return failed(latest.text[:120], expected, str(exc), ev)
    limit = fresh_s(t)
    if age > limit:
        return failed(f"{age:.0f} s old", f"within {limit} s", f"the bot's last time sync was {age:.0f} s ago", ev)
    reading = _reading(t, latest)
    if reading is None:
        return failed(latest.text[:120], expected, f"the bot's latest time sync failed: {latest.text[:120]}", ev)
    if not reading.within:
        return failed(latest.text[:120], expected, f"the bot reports drift beyond tolerance: {latest.text[:120]}", ev)
    tolerance = t.thresholds.drift_max_ms
    if abs(reading.drift_ms) >= tolerance:
        return failed(latest.text[:120], expected, f"the bot reports drift_ms={reading.drift_ms}, not within the "
                      f"{tolerance} ms tolerance (it calls it within its own)", ev)
    observed = f"drift_ms={reading.drift_ms} is_within_tolerance=True {age:.1f} s ago; no {t.profile.log_drift_tag}"
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
    readings = [r for r in (_reading(t, ln) for ln in syncs) if r is not None]
    if not readings and not syncs:
        return failed("no reading", expected, _no_sync_reason(t, t.thresholds.log_window_s), *ev)
    if not readings:
        tag = t.profile.log_time_sync_tag
        return failed("no reading", expected, f"the bot logged no {tag} drift reading in the window "
                      f"({len(syncs)} {tag} line(s), none with drift_ms=… is_within_tolerance=…)", *ev)
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
