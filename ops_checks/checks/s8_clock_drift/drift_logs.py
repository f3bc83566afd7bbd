"""Runbook §8.6.4 and §8.7.4: the bot's own time synchroniser, read from the log lines its code writes.

The runbook quotes ``[TIME_SYNC] drift_ms=45 is_within_tolerance=True`` and ``[EXCHANGE_TIME_DRIFT] drift_ms=1523
NEUTRAL state triggered``; the bot's code (TRADE_BOT ``app/logic/trade_permission_policy.py``,
``ExchangeTimeSynchronizer``) writes neither. What it writes, and what is read here (the texts come from the bot
profile, ``bot_time_sync_*``/``bot_drift_*``):

* ``ExchangeTimeSynchronizer initialized`` (INFO, once: the runbook's §8.3 Step 2 expectation);
* ``Exchange time sync: drift_ms=N`` after each sync, N = |local − exchange| in ms: at DEBUG while within its
  tolerance (not written at main.py's INFO level), at WARNING beyond it — the level is its ``is_within_tolerance``;
* ``[TPP-006] Exchange clock drift exceeded threshold - entering NEUTRAL state`` (WARNING) on the first sync beyond
  the tolerance, ``Exchange clock drift recovered - clearing NEUTRAL state`` (INFO) on the first one back;
* ``[TPP-007] Exchange /time endpoint unavailable: …`` (ERROR) when a sync fails.

TRADE_BOT v1.9.0 never creates its synchroniser, so none of these lines appear: both items then fail on that one
cause (the bot must run it). The reference bot (``sandbox/bot.py``) writes the same lines, at DEBUG level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ops_checks.access.config import Target
from ops_checks.checks.bot_sources import level, logs_unreadable, untimestamped
from ops_checks.checks.s1_preconditions.logs import LogError, LogLine, recent_lines
from ops_checks.checks.s8_clock_drift.drift import Measurement, agreement_allowance_ms, time_unavailable
from ops_checks.core import readings
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed

NEUTRAL_FOLLOWS_S = 5  # how long after a reading beyond the tolerance its NEUTRAL line may be stamped
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GUARD_LOGGER = "app.logic.trade_permission_policy"
SYNC_LOGS_ITEM = "8.6.4"


@dataclass(frozen=True)
class Reading:
    line: LogLine
    drift_ms: Decimal  # |local − exchange|, as the bot logs it
    within: bool | None  # the bot's is_within_tolerance (DEBUG/INFO: True, WARNING: False); None: no level


@dataclass
class SyncLog:
    """The synchroniser's lines in the logs' tails, oldest first."""

    started: list[LogLine] = field(default_factory=list)
    readings: list[Reading] = field(default_factory=list)
    exceeded: list[LogLine] = field(default_factory=list)  # [TPP-006] … entering NEUTRAL
    recovered: list[LogLine] = field(default_factory=list)
    failures: list[LogLine] = field(default_factory=list)  # [TPP-007] …
    malformed: list[LogLine] = field(default_factory=list)  # a reading line whose drift is no number

    def every(self) -> list[LogLine]:
        lines = [*self.started, *(r.line for r in self.readings), *self.exceeded, *self.recovered, *self.failures]
        return sorted(lines + self.malformed, key=lambda ln: ln.at)


def _reading_re(t: Target) -> re.Pattern[str]:
    return re.compile(re.escape(t.profile.bot_time_sync_log) + r"([^\s,;]*)")


def _reading(pattern: re.Pattern[str], line: LogLine) -> Reading | None:
    m = pattern.search(line.text)
    drift = readings.decimal_text(m.group(1)) if m else None
    if drift is None or drift < 0 or drift > readings.CEILING:
        return None
    lvl = level(line.text)
    within = {"DEBUG": True, "INFO": True, "WARNING": False}.get(lvl or "")
    return Reading(line, drift, within)


def read(t: Target, since: datetime = EPOCH) -> SyncLog:
    """The synchroniser's lines stamped at or after ``since`` (LogError when the logs cannot be read)."""
    p = t.profile
    pattern = _reading_re(t)
    log = SyncLog()
    for ln in sorted(recent_lines(t.log_dir, since), key=lambda ln: ln.at):
        text = ln.text
        if p.bot_time_sync_log in text:
            r = _reading(pattern, ln)
            if r is None:
                log.malformed.append(ln)
            else:
                log.readings.append(r)
        elif p.bot_drift_exceeded_log in text:
            log.exceeded.append(ln)
        elif p.bot_drift_recovered_log in text:
            log.recovered.append(ln)
        elif p.bot_time_sync_failed_tag in text:
            log.failures.append(ln)
        elif p.bot_time_sync_started_log in text:
            log.started.append(ln)
    return log


def _window(t: Target) -> tuple[int, datetime]:
    window = t.thresholds.log_window_s
    return window, datetime.now(UTC) - timedelta(seconds=window)


def _excerpt(t: Target, lines: list[LogLine]) -> Evidence:
    lines = sorted(set(lines), key=lambda ln: ln.at)
    text = "\n".join(f"{ln.at.isoformat()} {ln.file}: {ln.text}" for ln in lines[-30:])
    return Evidence("time-sync log lines", t.redactor.text(text) or "(none)")


def fresh_s(t: Target) -> int:
    """How old the latest sync line may be (``OPSCHECK_TIME_SYNC_FRESH_S``; the bot syncs periodically; default
    max(log_fresh_s, 10) s)."""
    fresh = t.thresholds.time_sync_fresh_s
    return fresh if fresh is not None else max(t.thresholds.log_fresh_s, 10)


def not_running(t: Target) -> Cause:
    """No synchroniser line at all: one cause for 8.6.4 and 8.7.4."""
    return Cause(
        "bot_defect",
        "ExchangeTimeSynchronizer",
        f"the bot's ExchangeTimeSynchronizer is not running: its logs hold no '{t.profile.bot_time_sync_started_log}' "
        "line (runbook §8.3 Step 2) and no time sync",
        "the bot must create and start its ExchangeTimeSynchronizer and sync every 60 s (TRADE_BOT "
        "app/logic/trade_permission_policy.py create_exchange_time_synchronizer; v1.9.0 never calls it), then "
        "restart the bot",
    )


def _sync_failing(detail: str) -> Cause:
    return Cause(
        "time_sync_failing",
        "the bot's time sync",
        detail,
        "make VALR's GET /v1/public/time reachable from the bot (runbook §8.3 Step 1: curl -s "
        "https://api.valr.com/v1/public/time from the bot's host), then re-run",
    )


def _stalled(age: float, limit: int) -> Cause:
    return Cause(
        "time_sync_stalled",
        "the bot's time sync",
        f"the bot's ExchangeTimeSynchronizer last synced {age:.0f} s ago (limit {limit} s)",
        "restart the bot: its ExchangeTimeSynchronizer stopped syncing (runbook §8.3 Step 2)",
    )


def logs_in_tolerance(log: SyncLog) -> bool:
    """Whether the bot writes its in-tolerance syncs (a DEBUG-level deployment): only then does the absence of a
    recent reading mean the synchroniser stopped."""
    return any(r.within for r in log.readings)


def _guard_defect(detail: str, limit: Decimal) -> Cause:
    return Cause(
        "bot_defect",
        "the bot's drift guard",
        detail,
        f"the bot's ExchangeTimeSynchronizer must use max_drift_ms={limit} and enter NEUTRAL above it (runbook §8.1, "
        "§8.7: create_exchange_time_synchronizer(max_drift_ms=1000)), then restart the bot",
    )


def time_sync_logs_ok(t: Target) -> CheckResult:
    """8.6.4 "No DRIFT errors": no drift-exceeded line (``[TPP-006] …`` or a WARNING reading) in the log window;
    the synchroniser runs (started, or syncing); its latest outcome is no failure; its latest reading, when it
    logs them, is recent and within the tolerance."""
    expected = "No DRIFT errors"
    window, since = _window(t)
    try:
        log = read(t)
    except LogError as exc:
        return logs_unreadable(t, str(exc))
    recent = [ln for ln in log.every() if ln.at >= since]
    ev = _excerpt(t, log.started[-1:] + recent)
    errors = sorted(
        [ln for ln in log.exceeded if ln.at >= since]
        + [r.line for r in log.readings if r.line.at >= since and r.within is False],
        key=lambda ln: ln.at,
    )
    if errors:
        last = errors[-1]
        detail = (
            f"{len(errors)} clock-drift error line(s) in the last {window} s, latest at "
            f"{last.at.isoformat(timespec='seconds')}: {last.text[:120]}"
        )
        return failed(
            f"{len(errors)} drift error lines",
            expected,
            detail,
            ev,
            cause=Cause(
                "drift_logged",
                "the bot's time sync",
                f"the bot logged clock-drift errors in the last {window} s",
                "find the episode in the bot's log (runbook §8.2.2, §8.8), sync the clock (§8.4), and re-run once a "
                "window has passed without one",
            ),
        )
    outcomes = sorted(
        [(r.line, "reading") for r in log.readings if r.line.at >= since]
        + [(ln, "failure") for ln in log.failures if ln.at >= since]
        + [(ln, "recovered") for ln in log.recovered if ln.at >= since]
        + [(ln, "malformed") for ln in log.malformed if ln.at >= since],
        key=lambda pair: pair[0].at,
    )
    if not outcomes and not log.readings and not log.started:
        blind = untimestamped(t)  # an absence in logs without times proves nothing
        return blind or failed("no time sync", expected, not_running(t).detail, ev, cause=not_running(t))
    if outcomes and outcomes[-1][1] in ("failure", "malformed"):
        last = outcomes[-1][0]
        detail = f"the bot's latest time sync failed: {last.text[:120]}"
        return failed(last.text[:120], expected, detail, ev, cause=_sync_failing(detail))
    if not logs_in_tolerance(log):  # a bot logging at INFO: its in-tolerance syncs leave no line
        started = log.started[-1].at.isoformat(timespec="seconds") if log.started else "before its logs' tails"
        observed = f"no drift errors; synchroniser started {started}"
        return passed(
            observed,
            expected,
            f"no clock-drift error in the last {window} s; the bot's ExchangeTimeSynchronizer started {started} "
            "(its in-tolerance syncs are DEBUG lines, not written at INFO: their recency is not judged)",
            ev,
        )
    latest = log.readings[-1]
    try:
        age = readings.age_s(latest.line.at, datetime.now(UTC), "the bot's latest time-sync line")
    except readings.BadReading as exc:
        return failed(latest.line.text[:120], expected, str(exc), ev)
    limit = fresh_s(t)
    if age > limit:
        return failed(
            f"{age:.0f} s old",
            f"within {limit} s",
            f"the bot's last time sync was {age:.0f} s ago",
            ev,
            cause=_stalled(age, limit),
        )
    tolerance = t.thresholds.drift_max_ms
    if latest.drift_ms >= tolerance:
        detail = (
            f"the bot reports drift_ms={latest.drift_ms}, not within the {tolerance} ms tolerance (it calls it "
            "within its own)"
        )
        return failed(latest.line.text[:120], expected, detail, ev, cause=_guard_defect(detail, tolerance))
    observed = f"drift_ms={latest.drift_ms} {age:.1f} s ago; no drift error in {window} s"
    return passed(observed, expected, observed, ev)


def _neutral_before(log: SyncLog, r: Reading) -> bool:
    """A reading beyond the tolerance has its NEUTRAL line: ``[TPP-006] …`` since the last sign of the bot being
    within it (a within reading, a recovery), and at most NEUTRAL_FOLLOWS_S after the reading."""
    ok = [x.line.at for x in log.readings if x.within and x.line.at <= r.line.at]
    ok += [ln.at for ln in log.recovered if ln.at <= r.line.at]
    floor = max(ok, default=EPOCH)
    return any(floor <= d.at <= r.line.at + timedelta(seconds=NEUTRAL_FOLLOWS_S) for d in log.exceeded)


def neutral_guard(t: Target, m: Measurement) -> CheckResult:
    """8.7.4 (> 1000 ms → the system enters NEUTRAL): the bot's guard acts on the true drift at the runbook's
    threshold. Its latest drift reading (|local − exchange|) agrees with our |offset| within our error bound plus an
    allowance for its own; every reading's level (its is_within_tolerance) follows drift_ms ≤ 1000; every reading
    beyond it has its ``[TPP-006] … entering NEUTRAL`` line; and when we measure a drift beyond 1000 ms the bot's
    latest reading is beyond too (NEUTRAL)."""
    limit = t.thresholds.drift_max_ms
    expected = f"NEUTRAL exactly above {limit} ms of true drift"
    if m.estimate is None:
        unmeasured = time_unavailable(m)
        assert unmeasured is not None
        return unmeasured
    est = m.estimate
    window, since = _window(t)
    try:
        log = read(t)
    except LogError as exc:
        return logs_unreadable(t, str(exc))
    ev = [_excerpt(t, log.started[-1:] + [ln for ln in log.every() if ln.at >= since]), *m.evidence()]
    in_window = [r for r in log.readings if r.line.at >= since]
    if not in_window:
        if not log.started and not log.readings and not log.failures:
            blind = untimestamped(t)  # an absence in logs without times proves nothing
            return blind or failed("no reading", expected, not_running(t).detail, *ev, cause=not_running(t))
        if logs_in_tolerance(log):  # it logs every sync, and none lately: 8.6.4 names it
            age = (datetime.now(UTC) - log.readings[-1].line.at).total_seconds()
            detail = f"the bot logged no drift reading in the last {window} s"
            return not_verified(
                detail, *ev, cause=_stalled(age, fresh_s(t)), blocked_by=(SYNC_LOGS_ITEM,), expected=expected
            )
        if any(ln.at >= since for ln in log.failures):
            detail = f"every time sync of the bot failed in the last {window} s: its guard has no drift reading"
            return not_verified(detail, *ev, cause=_sync_failing(detail), expected=expected)
        detail = (
            f"the bot logged no '{t.profile.bot_time_sync_log}…' reading in the last {window} s: it writes its "
            "in-tolerance syncs at DEBUG only"
        )
        return not_verified(
            detail,
            *ev,
            cause=Cause(
                "source",
                "the bot's drift readings",
                detail,
                f"log the bot's time syncs: set the level of logger {GUARD_LOGGER} to DEBUG (TRADE_BOT's main.py "
                "configures INFO), then restart the bot and re-run",
            ),
            expected=expected,
        )
    wrong = [r for r in in_window if r.within is not None and r.within != (r.drift_ms <= limit)]
    if wrong:
        r = wrong[-1]
        state = "within" if r.within else "beyond"
        detail = (
            f"the bot's guard does not use the {limit} ms threshold: it calls drift_ms={r.drift_ms} {state} its "
            f"tolerance ({r.line.text[:100]})"
        )
        return failed(r.line.text[:120], expected, detail, *ev, cause=_guard_defect(detail, limit))
    for r in in_window:
        if r.within is False and not _neutral_before(log, r):
            detail = f"drift beyond tolerance without NEUTRAL: {r.line.text[:100]}"
            return failed(r.line.text[:120], expected, detail, *ev, cause=_guard_defect(detail, limit))
    latest = in_window[-1]
    gap = abs(latest.drift_ms - abs(est.offset_ms))
    allowed = est.bound_ms + agreement_allowance_ms(t)
    state = {True: "within", False: "beyond", None: "?"}[latest.within]
    observed = f"bot drift_ms={latest.drift_ms} ({state}); measured {est.summary()}"
    if gap > allowed:
        detail = (
            f"the bot's drift reading {latest.drift_ms} ms disagrees with the measured |offset| "
            f"{abs(est.offset_ms):.1f} ± {est.bound_ms:.1f} ms by {gap:.0f} ms (> {allowed:.0f}): its NEUTRAL "
            "guard acts on another clock (container clock? runbook §8.4.2)"
        )
        return failed(
            observed,
            expected,
            detail,
            *ev,
            cause=Cause(
                "clock_skew",
                "the bot's clock",
                detail,
                "sync the bot container's clock with the host's (runbook §8.4.2: sync the host, then docker restart "
                "autonomous_alpha_bot), then re-run",
            ),
        )
    if est.least_ms > limit and latest.within:
        detail = f"drift measured beyond {limit} ms but the bot is not NEUTRAL"
        return failed(observed, expected, detail, *ev, cause=_guard_defect(detail, limit))
    neutral = "NEUTRAL" if latest.within is False else "not NEUTRAL (none required)"
    return passed(observed, expected, f"{observed}: bot {neutral}, {len(in_window)} readings consistent", *ev)
