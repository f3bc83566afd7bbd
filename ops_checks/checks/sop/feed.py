"""Incident SOP §2 (websocket disconnections) and §8 (staleness), read from the bot's metrics.

The SOP names no source for any of these figures, and the real bot (TRADE_BOT v1.9.0) has no websocket feed and
exports no such metric. So each is a *declared source* (``BotProfile.sop_metric_*``, env ``BOT_METRIC_*``:
disconnects in the last hour, current downtime, connected, market-data age, reduce-only state), none by default:
an item whose source is not declared is *not verified* and names the env line to declare; it never fails for a
metric name the suite chose. A declared metric the bot does not export fails naming both sides. The §2 items are
*not applicable* when the operator declares no websocket feed (``OPSCHECK_SCOPE=websocket_feed=none``). The kill
switch of §8 is the runbook's (§4.2 Method 1: ``system_settings.circuit_breaker_active``), read from the database.
The sandbox declares its reference bot's metrics (``sandbox/sop_env.py``).
"""

from __future__ import annotations

from ops_checks.access import scope
from ops_checks.access.config import Target
from ops_checks.access.db import DbError
from ops_checks.access.profile import DECLARED_SOURCES
from ops_checks.access.prometheus import BadMetric, Metrics, MetricsError, scrape
from ops_checks.checks import givens
from ops_checks.checks.bot_sources import declared, impossible_metric, metrics_unreadable, undeclared
from ops_checks.checks.sop import loss
from ops_checks.core import readings
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed

WARN_PER_HOUR = 3
CRITICAL_PER_HOUR = 10
MAX_DOWNTIME_S = 300
STALE_BLOCK_S = 5
STALE_KILL_S = 30

DISCONNECTS, DOWNTIME, CONNECTED = "sop_metric_ws_disconnects", "sop_metric_ws_downtime", "sop_metric_ws_connected"
AGE, REDUCE_ONLY = "sop_metric_data_age", "sop_metric_reduce_only"
FLAGS = (CONNECTED, REDUCE_ONLY)  # 0/1 gauges; the others are counts and ages (finite, >= 0)
WEBSOCKET_FIELDS = (DISCONNECTS, DOWNTIME, CONNECTED)
NO_WEBSOCKET = f"or, if the bot has no market-data websocket, declare it: {scope.ENV}=websocket_feed=none"


def websocket_out_of_scope(t: Target) -> CheckResult | None:
    """The §2 items: not applicable when the operator declared no websocket feed; else None (they run)."""
    declared_feed = any(getattr(t.profile, f) is not None for f in WEBSOCKET_FIELDS) or None
    return scope.gate(t.env, scope.WEBSOCKET, declared_feed, "BOT_METRIC_WEBSOCKET_*")


def source_absent(t: Target, field: str, problem: str) -> Cause:
    """A declared metric the bot does not export (or exports without the labels asked for)."""
    d, name = DECLARED_SOURCES[field], declared(t, field)
    return Cause(
        "source_absent",
        name,
        f"the bot does not export {name}, declared for the {d.figure} ({d.env}): {problem}",
        f"declare the metric the bot exports for the {d.figure} ({d.env}=<metric name> in the env file), or make the "
        f"bot export {name}",
    )


def impossible(name: str, problem: str) -> Cause:
    return impossible_metric(name, problem, "a count or age is finite and >= 0, a flag 0 or 1")


def read(t: Target, expected: str, *fields: str) -> tuple[Metrics, dict[str, float]] | CheckResult:
    """The declared metrics for ``fields``; the result maps each field to its value (a flag as 1.0 or 0.0). An
    undeclared source is not verified; an absent metric fails naming both sides; an impossible value (NaN, ±Inf,
    negative, a flag not 0/1) fails naming the value."""
    websocket = any(f in WEBSOCKET_FIELDS for f in fields)
    if (missing := undeclared(t, *fields, alternative=NO_WEBSOCKET if websocket else "")) is not None:
        return missing
    try:
        m = scrape(t)
    except MetricsError as exc:
        return metrics_unreadable(t, str(exc))
    values: dict[str, float] = {}
    for f in fields:
        name, need = declared(t, f), f"SOP {DECLARED_SOURCES[f].figure} ({DECLARED_SOURCES[f].env})"
        try:
            values[f] = float(m.flag(name, need)) if f in FLAGS else m.number(name, need, whole=f == DISCONNECTS)
        except BadMetric as exc:
            return failed("impossible value", expected, str(exc), _ev(t, m, *fields), cause=impossible(name, str(exc)))
        except MetricsError as exc:
            return failed("absent", expected, str(exc), _ev(t, m, *fields), cause=source_absent(t, f, str(exc)))
    return m, values


def _ev(t: Target, m: Metrics, *fields: str) -> Evidence:
    return m.evidence(*(n for f in fields if (n := getattr(t.profile, f)) is not None))


def _websocket(t: Target, expected: str, *fields: str) -> tuple[Metrics, dict[str, float]] | CheckResult:
    return websocket_out_of_scope(t) or read(t, expected, *fields)


def _feed_cause(detail: str, remedy: str) -> Cause:
    return Cause("feed", "market-data websocket", detail, remedy)


RECONNECT = (
    "SOP §2: check the connections (python scripts/ws_probe.py --auth), the reconnect attempts "
    "(tail -f logs/websocket.log) and connectivity (ping -c 5 advanced-trade-ws.coinbase.com)"
)


def disconnects_not_in_warning_band(t: Target) -> CheckResult:
    """sop.2.1 (warning): more than 3 disconnects in the last hour is the SOP's warning (up to 10; above, sop.2.2)."""
    expected = f"<= {WARN_PER_HOUR} disconnects/hour"
    got = _websocket(t, expected, DISCONNECTS)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    n = int(v[DISCONNECTS])
    ev = _ev(t, m, DISCONNECTS)
    if WARN_PER_HOUR < n <= CRITICAL_PER_HOUR:
        detail = f"{n} websocket disconnects in the last hour: SOP warning (> 3/h)"
        return failed(f"{n}/h", expected, detail, ev, cause=_feed_cause(detail, RECONNECT))
    note = " (critical: see sop.2.2)" if n > CRITICAL_PER_HOUR else ""
    return passed(f"{n}/h", expected, f"{n} disconnects in the last hour{note}", ev)


def disconnects_below_critical(t: Target) -> CheckResult:
    """sop.2.2: more than 10 disconnects in the last hour is critical."""
    expected = f"<= {CRITICAL_PER_HOUR} disconnects/hour"
    got = _websocket(t, expected, DISCONNECTS)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    n = int(v[DISCONNECTS])
    if n > CRITICAL_PER_HOUR:
        detail = f"{n} websocket disconnects in the last hour: critical (> 10/h)"
        return failed(f"{n}/h", expected, detail, _ev(t, m, DISCONNECTS), cause=_feed_cause(detail, RECONNECT))
    return passed(f"{n}/h", expected, f"{n} disconnects in the last hour", _ev(t, m, DISCONNECTS))


def downtime_within_limit(t: Target) -> CheckResult:
    """sop.2.3: the feed has not been down for more than 5 minutes (the SOP pages on-call)."""
    expected = f"current downtime <= {MAX_DOWNTIME_S} s"
    got = _websocket(t, expected, DOWNTIME, CONNECTED)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    down = v[DOWNTIME]
    ev = _ev(t, m, CONNECTED, DOWNTIME)
    if down > MAX_DOWNTIME_S:
        reason = f"market-data websocket down for {down / 60:.1f} min: page on-call"
        return failed(
            f"down {down:.0f} s",
            expected,
            reason,
            ev,
            cause=_feed_cause(reason, "page on-call (SOP §2: > 5 min downtime); " + RECONNECT),
        )
    state = "connected" if v[CONNECTED] == 1 else f"down {down:.0f} s"
    return passed(state, expected, f"websocket {state}", ev)


def feed_down_blocks_entries(t: Target) -> CheckResult:
    """sop.2.4 on live (read-only): while the websocket is down, entries are blocked (reduce-only)."""
    expected = "websocket down ⇒ reduce-only"
    got = _websocket(t, expected, CONNECTED, REDUCE_ONLY)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    ev = _ev(t, m, CONNECTED, REDUCE_ONLY, DOWNTIME)
    if v[CONNECTED] != 1 and v[REDUCE_ONLY] != 1:
        detail = "websocket down but the bot still allows entries"
        return failed(
            "down, entries allowed",
            expected,
            detail,
            ev,
            cause=_guard(
                detail, "feed-drop recovery", "pause entries (reduce-only) while the websocket is down (SOP §2)"
            ),
        )
    state = "connected" if v[CONNECTED] == 1 else "down, reduce-only"
    return passed(state, expected, f"websocket {state}", ev)


def _guard(detail: str, what: str, should: str) -> Cause:
    return Cause(
        "bot_defect",
        f"the bot's {what}",
        detail,
        f"fix the bot's {what}: it must {should}; until then, activate the kill switch (opscheck kill-switch activate)",
    )


def stale_blocks_entries(t: Target) -> CheckResult:
    """sop.8.1: market data older than 5 s ⇒ entries blocked (reduce-only)."""
    expected = f"age > {STALE_BLOCK_S} s ⇒ reduce-only"
    got = read(t, expected, AGE, REDUCE_ONLY)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    age, ro = v[AGE], v[REDUCE_ONLY] == 1
    ev = _ev(t, m, AGE, REDUCE_ONLY)
    if age > STALE_BLOCK_S and not ro:
        detail = f"market data {age:.1f} s old but entries are not blocked"
        should = f"block entries (reduce-only) once market data is older than {STALE_BLOCK_S} s (SOP §8)"
        return failed(
            f"age {age:.1f} s, entries allowed", expected, detail, ev, cause=_guard(detail, "staleness handler", should)
        )
    return passed(f"age {age:.1f} s{', reduce-only' if ro else ''}", expected, f"market data {age:.1f} s old", ev)


def _kill_switch(t: Target) -> tuple[bool, Evidence] | CheckResult:
    """The runbook's kill switch (§4.2 Method 1: ``system_settings.circuit_breaker_active``), from the database."""
    try:
        state, ev = loss.read(t)
    except DbError as exc:
        if str(exc).startswith("cannot connect"):
            return givens.database_blocked(t, str(exc))
        return not_verified(
            f"system_settings unreadable: {exc}", cause=givens.table_cause(t, "system_settings", str(exc))
        )
    except readings.BadReading as exc:
        return failed("unknown", "a kill-switch state", str(exc), cause=loss.settings_cause(str(exc)))
    if state is None:
        return failed("no row", "a kill-switch state", loss.NO_ROW, cause=loss.settings_cause(loss.NO_ROW))
    return state.active, ev


def stale_activates_kill_switch(t: Target) -> CheckResult:
    """sop.8.2: market data older than 30 s ⇒ the kill switch is active (read from the database only then: with
    fresher data the implication holds whatever the switch)."""
    expected = f"age > {STALE_KILL_S} s ⇒ kill switch active"
    got = read(t, expected, AGE)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    age = v[AGE]
    if age <= STALE_KILL_S:
        return passed(f"age {age:.1f} s", expected, f"market data {age:.1f} s old", _ev(t, m, AGE))
    ks = _kill_switch(t)
    if isinstance(ks, CheckResult):
        return ks
    active, sql_ev = ks
    ev = (_ev(t, m, AGE), sql_ev)
    if not active:
        detail = f"market data {age:.1f} s old but the kill switch is not active"
        return failed(
            f"age {age:.1f} s, kill switch off",
            expected,
            detail,
            *ev,
            cause=_guard(
                detail,
                "staleness handler",
                f"activate the kill switch once market data is older than {STALE_KILL_S} s (SOP §8)",
            ),
        )
    return passed(f"age {age:.1f} s, kill switch on", expected, f"market data {age:.1f} s old, kill switch on", *ev)


def staleness_observable(t: Target) -> CheckResult:
    """sop.8.3 on live (read-only): the bot exports its data age and its reduce-only state."""
    got = read(t, "market-data age and reduce-only state exported", AGE, REDUCE_ONLY)
    if isinstance(got, CheckResult):
        return got
    m, v = got
    expected = f"{declared(t, AGE)} and {declared(t, REDUCE_ONLY)} exported"
    return passed(
        f"age {v[AGE]:.1f} s",
        expected,
        "staleness handling observable (drill: sandbox only)",
        _ev(t, m, AGE, REDUCE_ONLY),
    )
