"""Incident SOP drills on a disposable sandbox (never the session's shared one), time-compressed by the bot's
``feed_time_scale`` knob: 5 s → 12.5 ms, 30 s → 75 ms, 2 clean minutes → 0.3 s.

- sop.2.4 feed drop: entries blocked, exits allowed, trading resumes only after the clean window.
- sop.8.3 stalled feed: entries blocked past 5 s, kill switch active past 30 s.
- sop.7.1 kill switch: after activation the exchange holds no open orders.
- sop.4.2 loss breach: P&L driven past the limit ⇒ circuit breaker, reduce-only, no open orders, alert.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from decimal import Decimal

import httpx

from ops_checks.access import kill_switch_state
from ops_checks.access import webhook_signal as signal
from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.access.valr.client import ValrError
from ops_checks.checks.s1_preconditions.exchange import open_orders
from ops_checks.checks.sop import feed, loss
from ops_checks.core import poll
from ops_checks.core.http import Recorder
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, passed
from ops_checks.drills import base as drill_base
from ops_checks.sandbox.environment import Sandbox

SCALE = 0.0025
CLEAN_S = 120.0  # SOP §2: resume trading after 2 clean minutes
POLL_S = 0.01
DRILL_ITEMS = ("sop.2.4", "sop.8.3", "sop.7.1", "sop.4.2")
OPERATOR = "opscheck SOP drill"
ERRORS = (*drill_base.DRILL_ERRORS, ValrError, httpx.HTTPError, ValueError)


@dataclass(repr=False)
class Drill(drill_base.Drill):
    t0: float = field(default_factory=time.monotonic)

    SAY_SUMMARY = False

    def stamp(self) -> str:
        return f"+{(time.monotonic() - self.t0) * 1000:7.1f} ms "


def _until(cond: Callable[[], bool], timeout: float) -> float | None:
    """Seconds until ``cond()`` held, or None when it did not within ``timeout``."""
    return poll.until(cond, timeout, POLL_S)


def _signal(sb: Sandbox, reduce_only: bool) -> str:
    """A signed signal to the bot's webhook (an exit when ``reduce_only``); the bot's reason code, or why none."""
    t = sb.target
    assert t is not None
    sid = signal.new_signal_id()
    body = signal.signal_body(
        t.profile, signal_id=sid, side="SELL" if reduce_only else "BUY", extra={"reduce_only": reduce_only}
    )  # the SOP's exit flag (the reference bot's promise)
    reply = signal.send_signal(t, body=body, signal_id=sid, timeout=3.0)
    return str(reply.answer.get("reason_code") or reply.describe())


def feed_drop(sb: Sandbox, d: Drill) -> CheckResult:
    bot = sb.bot
    assert bot is not None
    window = CLEAN_S * SCALE  # the SOP's 2 minutes, never the bot's own setting
    kill = bot.knobs.stale_kill_switch
    bot.knobs.stale_kill_switch = False  # a short drop: keep §8's 30 s kill switch out of §2's drill
    problems = []
    try:
        bot.sop.drop_feed()
        d.say("feed dropped")
        if _until(lambda: bot.sop.entries_blocked, 1.0) is None:
            problems.append("entries not blocked after the drop")
        entry, exit_ = _signal(sb, reduce_only=False), _signal(sb, reduce_only=True)
        d.say(f"entry signal → {entry}; exit signal → {exit_}")
        if entry != "REDUCE_ONLY_ENTRY_BLOCKED":
            problems.append(f"entry accepted while the feed was down ({entry})")
        if exit_ == "REDUCE_ONLY_ENTRY_BLOCKED":
            problems.append("exit blocked while the feed was down")
        bot.sop.reconnect()
        back = time.monotonic()
        d.say(f"feed reconnected; clean window {window:.3f} s (2 min x {SCALE})")
        resumed = _until(lambda: not bot.sop.entries_blocked, window * 4 + 1)
        if resumed is None:
            problems.append("trading never resumed after reconnecting")
        else:
            after = time.monotonic() - back
            d.say(f"trading resumed {after:.3f} s after reconnect")
            if after < window * 0.9:
                problems.append(f"resumed {after:.3f} s after reconnect, inside the {window:.3f} s clean window")
    finally:
        bot.knobs.stale_kill_switch = kill
        bot.sop.reconnect()
    return _result(
        problems,
        "blocked entries, allowed exits, resumed after the clean window",
        d,
        what="feed-drop recovery (SOP §2: pause entries, allow exits, resume after 2 clean minutes)",
    )


def stalled_feed(sb: Sandbox, d: Drill) -> CheckResult:
    bot, t = sb.bot, sb.target
    assert bot is not None and t is not None
    problems = []
    bot.sop.stall_feed()
    d.say("feed stalled (connected, no updates)")
    if _until(lambda: bot.sop.entries_blocked, 30 * SCALE + 0.5) is None:
        problems.append(f"entries not blocked with data older than 5 s (x {SCALE})")
    if _until(lambda: _kill_switch_on(sb), 30 * SCALE + 1.0) is None:
        problems.append(f"kill switch not active with data older than 30 s (x {SCALE})")
    d.say("stall: " + ("; ".join(problems) or "reduce-only, then kill switch active"))
    bot.sop.reconnect()
    _release(sb)
    return _result(
        problems,
        "reduce-only past 5 s, kill switch past 30 s",
        d,
        what="staleness handler (SOP §8: reduce-only past 5 s, kill switch past 30 s)",
    )


def _set_kill_switch(sb: Sandbox, activate: bool, reason: str) -> str | None:
    """The runbook's kill switch (§4.2 Method 1, system_settings.circuit_breaker_active) with its MANUAL_LOCK /
    MANUAL_UNLOCK event; None on success, else a one-line problem."""
    t = sb.target
    assert t is not None
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            if activate:
                kill_switch_state.activate(db, reason)
                note = kill_switch_state.record_event(
                    db, activated=True, reason=reason, operator=OPERATOR, via="SOP drill"
                )
                return note if note and note.startswith("circuit_breaker_events") else None
            kill_switch_state.deactivate_recorded(db, reason=reason, operator=OPERATOR, via="SOP drill")
    except DbError as exc:
        return str(exc)
    return None


def _release(sb: Sandbox) -> None:
    assert sb.target is not None
    _set_kill_switch(sb, False, "SOP drill done")
    bot = sb.bot
    assert bot is not None
    _until(lambda: not bot.sop.entries_blocked and not _kill_switch_on(sb), 3.0)


def _kill_switch_on(sb: Sandbox) -> bool:
    assert sb.target is not None
    state, _ = loss.read(sb.target)
    return bool(state and state.active)


def _rest_orders(sb: Sandbox, n: int) -> None:
    from ops_checks.checks.s1_preconditions.exchange import client

    assert sb.target is not None
    c = client(sb.target, Recorder(sb.target.redactor))
    for _ in range(n):
        c.place_limit_order("BTCZAR", "BUY", Decimal("0.0001"), Decimal("1000000"), f"SOP-{uuid.uuid4().hex[:16]}")


def kill_switch_cancels(sb: Sandbox, d: Drill) -> CheckResult:
    t = sb.target
    assert t is not None
    _rest_orders(sb, 2)
    rec = Recorder(t.redactor)
    d.say(f"{len(open_orders(t, rec))} resting orders placed; activating the kill switch")
    problem = _set_kill_switch(sb, True, "SOP §7 drill")
    if problem:
        detail = f"kill switch activation failed: {problem}"
        return failed(
            "not activated",
            "0 open orders",
            detail,
            cause=Cause(
                "drill", "SOP §7 kill-switch drill", detail, "see the drill's procedure in the evidence; re-run"
            ),
        )
    left: list[int] = []

    def drained() -> bool:
        left.append(len(open_orders(t, rec)))
        return left[-1] == 0

    cleared = _until(drained, 2.0)
    d.say(f"open orders after activation: {left[-1] if left else '?'}")
    _release(sb)
    ev = Evidence("HTTP (last)", rec.exchanges[-1].render() if rec.exchanges else "")
    what = "kill switch (SOP §7: cancel every open order)"
    if cleared is None:
        return _result([f"{left[-1]} order(s) still open 2 s after the kill switch"], "0 open orders", d, ev, what=what)
    return _result([], f"0 open orders {cleared * 1000:.0f} ms after activation", d, ev, what=what)


def loss_breach(sb: Sandbox, d: Drill) -> CheckResult:
    t = sb.target
    assert t is not None
    _rest_orders(sb, 1)
    state, _ = loss.read(t)
    assert state is not None
    pnl = -(state.limit + Decimal("0.005"))
    sb.admin("UPDATE system_settings SET daily_pnl_pct = %s WHERE id = 1", (pnl,))
    d.say(f"daily P&L set to {pnl * 100:.2f}% (limit -{state.limit * 100:.2f}%), 1 order resting")
    missing: list[str] = ["not checked"]

    def settled() -> bool:
        now, _ = loss.read(t)
        missing[:] = loss.breach_actions(t, now) if now else ["settings row missing"]
        return not missing

    _until(settled, 2.0)
    d.say("breach: " + ("; ".join(missing) or "circuit breaker, reduce-only, 0 open orders, alert"))
    return _result(
        missing,
        "circuit breaker, reduce-only, 0 open orders, alert",
        d,
        what="loss-breach handler (SOP §4: halt, reduce-only, cancel orders, alert)",
    )


def _result(problems: list[str], ok_text: str, d: Drill, *ev: Evidence, what: str) -> CheckResult:
    """The drill's judgement; a failure is the bot's ``what`` not doing what the SOP says (its cause)."""
    if problems:
        detail = "; ".join(problems)
        return failed(
            detail,
            ok_text,
            detail,
            *ev,
            cause=Cause(
                "bot_defect",
                f"the bot's {what.split(' (')[0]}",
                f"drill: {detail}",
                f"fix the bot's {what}; the drill's procedure (evidence) shows what it did",
            ),
        )
    return passed(ok_text, ok_text, ok_text, *ev)


#: a drill item out of scope on a target whatever a drill proved: no websocket declared, no feed to drop
OUT_OF_SCOPE: dict[str, Callable[[Target], CheckResult | None]] = {"sop.2.4": feed.websocket_out_of_scope}


def outcome(t: Target, drill: Drill | None, item: str) -> CheckResult:
    """A drill item's result: out of scope where the target declares no such source (``OUT_OF_SCOPE``), else the
    drill's result in the sandbox, the item's registry check on live (``base.item_result``)."""
    scope = OUT_OF_SCOPE.get(item)
    return (scope(t) if scope is not None else None) or drill_base.item_result(t, drill, item)


def run(sb: Sandbox, only: Collection[str] | None = None) -> Drill:
    """Every SOP drill on ``sb`` (started, its drill faults applied), in an order that leaves each clean; with
    ``only``, just the drills of those items (a run that selects one SOP section needs one drill, not four)."""
    assert sb.bot is not None
    sb.bot.knobs.feed_time_scale = SCALE
    d = Drill()
    steps: tuple[tuple[str, Callable[[], CheckResult]], ...] = (
        ("sop.2.4", lambda: feed_drop(sb, d)),
        ("sop.8.3", lambda: stalled_feed(sb, d)),
        ("sop.7.1", lambda: kill_switch_cancels(sb, d)),
        ("sop.4.2", lambda: loss_breach(sb, d)),
    )
    for item, step in steps:
        if only is None or item in only:
            d.guarded(item, step, ERRORS)
    for r in d.results.values():
        r.evidence.append(Evidence("SOP drill", "\n".join(d.procedure)))
    return d
