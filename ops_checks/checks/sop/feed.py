"""Incident SOP §2 (websocket disconnections) and §8 (staleness), read from the bot's metrics.

The metric names come from the bot profile (``BotProfile.sop_metric_*``: disconnects in the last hour, current
downtime, connected, market-data age, reduce-only (1 while entries are blocked), kill switch active). The SOP
names none of them and the real bot (TRADE_BOT v1.9.0) exports no equivalent: the reference bot keeps them as
the SOP's promise; on the real bot each item fails naming the metric it needs and the metrics the bot has.
"""

from __future__ import annotations

from ops_checks.core.result import CheckResult, Evidence, failed, passed
from ops_checks.target.config import Target
from ops_checks.target.prometheus import BadMetric, Metrics, MetricsError, scrape

WARN_PER_HOUR = 3
CRITICAL_PER_HOUR = 10
MAX_DOWNTIME_S = 300
STALE_BLOCK_S = 5
STALE_KILL_S = 30

# what each SOP observable is, for the one-line reason when the bot does not export it
NEEDS = {
    "sop_metric_ws_disconnects": "SOP §2 websocket disconnects per hour",
    "sop_metric_ws_downtime": "SOP §2 websocket downtime",
    "sop_metric_ws_connected": "SOP §2 websocket state",
    "sop_metric_data_age": "SOP §8 market-data age",
    "sop_metric_reduce_only": "SOP §2/§8 reduce-only state",
    "sop_metric_kill_switch": "SOP §8 kill-switch state",
}


DISCONNECTS, DOWNTIME, CONNECTED = "sop_metric_ws_disconnects", "sop_metric_ws_downtime", "sop_metric_ws_connected"
AGE, REDUCE_ONLY, KILL_SWITCH = "sop_metric_data_age", "sop_metric_reduce_only", "sop_metric_kill_switch"
FLAGS = (CONNECTED, REDUCE_ONLY, KILL_SWITCH)  # 0/1 gauges; the others are counts and ages (finite, >= 0)


def _read(t: Target, expected: str, *fields: str) -> tuple[Metrics, dict[str, float]] | CheckResult:
    """The profile's metrics for ``fields``; the result maps each field to its value (a flag as 1.0 or 0.0).
    An absent metric fails naming both sides; an impossible value (NaN, ±Inf, negative, a flag not 0/1) fails
    naming the value."""
    try:
        m = scrape(t)
    except MetricsError as exc:
        return failed("unreadable", expected, str(exc))
    values: dict[str, float] = {}
    try:
        for f in fields:
            name = getattr(t.profile, f)
            if f in FLAGS:
                values[f] = float(m.flag(name, NEEDS[f]))
            else:
                values[f] = m.number(name, NEEDS[f], whole=f == DISCONNECTS)
    except BadMetric as exc:
        return failed("impossible value", expected, f"{NEEDS[f]}: {exc}", _ev(t, m, *fields))
    except MetricsError as exc:
        return failed("unreadable", expected, str(exc))
    return m, values


def _ev(t: Target, m: Metrics, *fields: str) -> Evidence:
    return m.evidence(*(getattr(t.profile, f) for f in fields))


def disconnects_not_in_warning_band(t: Target) -> CheckResult:
    """sop.2.1 (warning): more than 3 disconnects in the last hour is the SOP's warning (up to 10; above, sop.2.2)."""
    expected = f"<= {WARN_PER_HOUR} disconnects/hour"
    got = _read(t, expected, DISCONNECTS)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    n = int(v[DISCONNECTS])
    ev = _ev(t, m, DISCONNECTS)
    if WARN_PER_HOUR < n <= CRITICAL_PER_HOUR:
        return failed(f"{n}/h", expected, f"{n} websocket disconnects in the last hour: SOP warning (> 3/h)", ev)
    note = " (critical: see sop.2.2)" if n > CRITICAL_PER_HOUR else ""
    return passed(f"{n}/h", expected, f"{n} disconnects in the last hour{note}", ev)


def disconnects_below_critical(t: Target) -> CheckResult:
    """sop.2.2: more than 10 disconnects in the last hour is critical."""
    expected = f"<= {CRITICAL_PER_HOUR} disconnects/hour"
    got = _read(t, expected, DISCONNECTS)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    n = int(v[DISCONNECTS])
    if n > CRITICAL_PER_HOUR:
        return failed(f"{n}/h", expected, f"{n} websocket disconnects in the last hour: critical (> 10/h)",
                      _ev(t, m, DISCONNECTS))
    return passed(f"{n}/h", expected, f"{n} disconnects in the last hour", _ev(t, m, DISCONNECTS))


def downtime_within_limit(t: Target) -> CheckResult:
    """sop.2.3: the feed has not been down for more than 5 minutes (the SOP pages on-call)."""
    expected = f"current downtime <= {MAX_DOWNTIME_S} s"
    got = _read(t, expected, DOWNTIME, CONNECTED)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    down = v[DOWNTIME]
    ev = _ev(t, m, CONNECTED, DOWNTIME)
    if down > MAX_DOWNTIME_S:
        reason = f"market-data websocket down for {down / 60:.1f} min: page on-call"
        return failed(f"down {down:.0f} s", expected, reason, ev)
    state = "connected" if v[CONNECTED] == 1 else f"down {down:.0f} s"
    return passed(state, expected, f"websocket {state}", ev)


def feed_down_blocks_entries(t: Target) -> CheckResult:
    """sop.2.4 on live (read-only): while the websocket is down, entries are blocked (reduce-only)."""
    expected = "websocket down ⇒ reduce-only"
    got = _read(t, expected, CONNECTED, REDUCE_ONLY)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    ev = _ev(t, m, CONNECTED, REDUCE_ONLY, DOWNTIME)
    if v[CONNECTED] != 1 and v[REDUCE_ONLY] != 1:
        return failed("down, entries allowed", expected, "websocket down but the bot still allows entries", ev)
    state = "connected" if v[CONNECTED] == 1 else "down, reduce-only"
    return passed(state, expected, f"websocket {state}", ev)


def stale_blocks_entries(t: Target) -> CheckResult:
    """sop.8.1: market data older than 5 s ⇒ entries blocked (reduce-only)."""
    expected = f"age > {STALE_BLOCK_S} s ⇒ reduce-only"
    got = _read(t, expected, AGE, REDUCE_ONLY)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    age, ro = v[AGE], v[REDUCE_ONLY] == 1
    ev = _ev(t, m, AGE, REDUCE_ONLY)
    if age > STALE_BLOCK_S and not ro:
        return failed(f"age {age:.1f} s, entries allowed", expected,
                      f"market data {age:.1f} s old but entries are not blocked", ev)
    return passed(f"age {age:.1f} s{', reduce-only' if ro else ''}", expected, f"market data {age:.1f} s old", ev)


def stale_activates_kill_switch(t: Target) -> CheckResult:
    """sop.8.2: market data older than 30 s ⇒ the kill switch is active."""
    expected = f"age > {STALE_KILL_S} s ⇒ kill switch active"
    got = _read(t, expected, AGE, KILL_SWITCH)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    age, ks = v[AGE], v[KILL_SWITCH] == 1
    ev = _ev(t, m, AGE, KILL_SWITCH)
    if age > STALE_KILL_S and not ks:
        return failed(f"age {age:.1f} s, kill switch off", expected,
                      f"market data {age:.1f} s old but the kill switch is not active", ev)
    return passed(f"age {age:.1f} s, kill switch {'on' if ks else 'off'}", expected, f"market data {age:.1f} s old", ev)


def staleness_observable(t: Target) -> CheckResult:
    """sop.8.3 on live (read-only): the bot exports its data age and its reduce-only state."""
    expected = f"{t.profile.sop_metric_data_age} and {t.profile.sop_metric_reduce_only} exported"
    got = _read(t, expected, AGE, REDUCE_ONLY)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    return passed(f"age {v[AGE]:.1f} s", expected, "staleness handling observable (drill: sandbox only)",
                  _ev(t, m, AGE, REDUCE_ONLY))
