"""Runbook §4.3 / §4.4 / §4.5 (and §1.3.1): the kill-switch verification as one mutating flow.

Six steps (items 4.4.1–4.4.6) and the response time (4.5.1): read the state; activate (direct SQL or the guardian
API); wait for the bot's first HALT / HALT_KILL_SWITCH decision, timing it from the committed UPDATE; send a signed
test signal and prove it was rejected and that no order reached the exchange; deactivate; prove ALLOW.

Safety (DESIGN.md §7): the flow holds a Postgres advisory lock, so two mutating runs never overlap; it refuses to
touch a kill switch somebody else activated; it activates only an INACTIVE switch, marking the hold as its own
(``VERIFICATION_TEST opscheck:<token>``), and releases only that hold, by compare-and-set: if anyone activated,
re-activated or changed the switch meanwhile (an operator's ``kill-switch activate``, the runbook's own SQL, the
bot's loss breaker), the flow leaves it ACTIVE, names who holds it and fails the step; it deactivates only after
HALT was proven in time and the test trade was rejected; on any failure or interruption it leaves the kill switch
ACTIVE and says so (if the bot does not return to ALLOW after deactivation, it activates the switch again, unless
somebody else already has).

Latency is measured from the committed UPDATE to the first HALT_KILL_SWITCH decision the bot records, polling every
10 ms (the runbook's own ``sleep 1`` script can never come in under 1000 ms: DESIGN.md §8.1).

Two kinds of bot: one that evaluates its policy in a loop (decisions keep arriving, so step 1 sees one within 2 s and
the HALT is awaited without sending anything) and one that evaluates per signal (step 1 sees none: right after the
activation a signed test signal in the bot's own format (``ops_checks.access.webhook_signal``) forces the decision).
Signals the
suite sends carry ``signal_id`` ``OPSCHECK-…``; every id the procedure writes is a uuid, like the bot's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from ops_checks.access import guardian, kill_switch_state
from ops_checks.access import webhook_signal as test_signal
from ops_checks.access.config import Target
from ops_checks.access.db import Db, DbError, connect
from ops_checks.access.policy import ALLOW, HALT, HALT_KILL_SWITCH
from ops_checks.access.valr.client import ValrClient, ValrError
from ops_checks.checks import givens
from ops_checks.core import signals
from ops_checks.core.http import Recorder
from ops_checks.core.result import READ_ONLY, Cause, CheckResult, Evidence, failed, not_verified, passed
from ops_checks.procedures.sequence import StepFailed, StepRun

VERIFICATION_REASON = "VERIFICATION_TEST"
POLL_S = 0.01
BASELINE_WAIT_S = 2.0
GRACE_S = 2.0  # waited beyond the limit before a missing decision counts as "never"
ORDER_GRACE_S = 0.2  # an order the bot sends asynchronously would reach the exchange within this
METHODS = ("sql", "api")

STEPS = ("4.4.1", "4.4.2", "4.4.3", "4.4.4", "4.4.5", "4.4.6")
RESPONSE_TIME = "4.5.1"
FLOW_ORDER = ("4.4.1", "4.4.2", "4.4.3", RESPONSE_TIME, "4.4.4", "4.4.5", "4.4.6")

# correlation_id is a uuid (migration 021): decisions are told apart by time, never by an id prefix.
_LATEST_DECISION = """
SELECT policy_decision, reason_code, timestamp_utc FROM policy_decision_audit
WHERE timestamp_utc >= %s
ORDER BY timestamp_utc DESC, id DESC LIMIT 1"""

_FIRST_HALT = """
SELECT policy_decision, reason_code, timestamp_utc, correlation_id FROM policy_decision_audit
WHERE timestamp_utc >= %s AND policy_decision = 'HALT' AND reason_code = 'HALT_KILL_SWITCH'
ORDER BY timestamp_utc, id LIMIT 1"""

_FIRST_AFTER_RELEASE = """
SELECT policy_decision, reason_code, timestamp_utc FROM policy_decision_audit
WHERE timestamp_utc > %s AND reason_code <> 'HALT_KILL_SWITCH'
ORDER BY timestamp_utc, id LIMIT 1"""

_OWN_LOCK_EVENT = """
SELECT id, event_type, trigger_reason, created_at FROM circuit_breaker_events
WHERE event_type = 'MANUAL_LOCK' AND trigger_reason LIKE %s ORDER BY id DESC LIMIT 1"""


def method2_problem(t: Target, rec: Recorder) -> str | None:
    """None when the runbook's §4.2 Method 2 endpoint exists and demands the secret, else a one-line reason that
    names both sides (the real bot has no such endpoint: 404). The guardian's own probe decides both: it names a
    missing route (404/405) and sends GET only to a read-only target."""
    return guardian.authorisation_problem(t, rec)


NO_HALT = Cause(
    "bot_defect",
    "policy_decision_audit HALT_KILL_SWITCH",
    "the bot records no HALT / HALT_KILL_SWITCH decision once the kill switch is ACTIVE",
    "the bot must read system_settings.circuit_breaker_active before every decision and record HALT with reason "
    "HALT_KILL_SWITCH in policy_decision_audit (runbook §4.1, §4.3 Step 3); then deactivate the kill switch the test "
    "left ACTIVE: opscheck kill-switch deactivate --allow-mutations",
)


def _event_cause(t: Target, note: str) -> Cause:
    """Why the kill switch's audit event (circuit_breaker_events) could not be written: a grant, or the bot's
    compute_row_hash() refusing the table (TRADE_BOT migration 026 dropped it from its CASE)."""
    if "permission denied" in note:
        return givens.table_cause(t, "circuit_breaker_events", note, "INSERT")
    return Cause(
        "bot_defect",
        "circuit_breaker_events INSERT",
        f"the bot's schema refuses the kill switch's audit event: {note}",
        "the bot's compute_row_hash() must accept circuit_breaker_events rows again (migration 026 dropped the table "
        "from its CASE): fix it in a new TRADE_BOT migration; then deactivate the kill switch the test left ACTIVE: "
        "opscheck kill-switch deactivate --allow-mutations",
    )


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or another interruption) after activation: the kill switch was left ACTIVE on purpose."""


@dataclass
class FlowOptions:
    method: str = "sql"
    send_test_signal: bool = True
    require_allow: bool = True  # §4.4 step 6 expects ALLOW; §1.3.1 only needs the pre-test decision back
    operator: str = "opscheck"
    exchange_orders: Callable[[], int] | None = None  # the sandbox's own order count at the exchange
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:8])  # marks the hold as this run's own

    @property
    def hold_reason(self) -> str:
        return kill_switch_state.suite_hold_reason(self.token)

    @classmethod
    def for_target(cls, t: Target, exchange_orders: Callable[[], int] | None = None) -> FlowOptions:
        """The preflight's §4.3 run: Method 1 (direct SQL, as §4.3 Step 2 prints it) unless
        ``OPSCHECK_KILL_SWITCH_METHOD=api`` asks for the guardian API (Method 2). ``exchange_orders``: by default
        the target's own count where it can tell (the sandbox's simulator)."""
        return cls(
            method=t.value("OPSCHECK_KILL_SWITCH_METHOD", "sql").lower(),
            operator=t.value("OPSCHECK_OPERATOR", "opscheck") or "opscheck",
            exchange_orders=exchange_orders or t.exchange_orders,
        )


@dataclass
class KillSwitchFlow:
    """What one run proved: a CheckResult per item reached, and why the flow stopped where it did."""

    method: str
    results: dict[str, CheckResult] = field(default_factory=dict)
    stop_reason: str = ""
    left_active: bool = False
    latency_ms: Decimal | None = None
    per_signal: bool = False  # the bot recorded no decision on its own: each decision is forced by a test signal
    procedure: list[str] = field(default_factory=list)
    touched: bool = False  # the flow tried to activate the kill switch (from then on it may hold it)
    stopped_at: str | None = None  # the item whose failure stopped the flow
    hold: kill_switch_state.Hold | None = None  # what its activation wrote: the only state it may release

    def say(self, text: str) -> None:
        self.procedure.append(f"{datetime.now().astimezone().isoformat(timespec='milliseconds')} {text}")

    def outcome(self, item_id: str) -> CheckResult | None:
        return self.results.get(item_id)

    def result(self, item_id: str) -> CheckResult:
        """The item's result: what the flow proved for it, else not verified (``not_reached``)."""
        return self.results.get(item_id) or self.not_reached(item_id)

    def not_reached(self, item_id: str) -> CheckResult:
        """The one way to say an item of the flow was not reached: not verified, resting on the step that stopped
        the flow (or on what kept the flow from starting)."""
        why = self.stop_reason or "the step was not part of this run"
        state = "; kill switch LEFT ACTIVE" if self.left_active else ""
        reason = f"the kill-switch flow stopped before {item_id}: {why}{state}"
        blocked = (self.stopped_at,) if self.stopped_at and self.stopped_at != item_id else ()
        cause = None
        if not blocked and self.stop_reason.startswith("needs --allow-mutations"):
            cause = READ_ONLY
        return not_verified(reason, cause=cause, blocked_by=blocked)

    @property
    def ok(self) -> bool:
        return not self.stop_reason and all(r.ok for r in self.results.values())


REREAD_OPTIONS = "-c lock_timeout=1500 -c statement_timeout=3000"  # a locked row or table: UNKNOWN in seconds


def reread_state(t: Target) -> kill_switch_state.KillSwitchState | str:
    """The committed kill-switch state, on a fresh read-only connection (the flow's own may be mid-cancel), or a
    one-line reason why it cannot be read. Bounded (3 s to connect, 1.5 s for a lock, 3 s for the query) and not cut
    short by a further Ctrl-C or SIGTERM: those take effect once it returns."""
    with signals.deferred():
        try:
            with connect(t.db, t.redactor, read_only=True, extra_options=REREAD_OPTIONS) as db:
                return kill_switch_state.read_state(db)
        except Exception as exc:  # noqa: BLE001 - any failure means "cannot tell", which the caller reports
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "lock timeout" in text:
                text += " (another session holds a lock on system_settings)"
            return t.redactor.text(text)


def state_line(t: Target) -> str:
    """The kill-switch state line every stop ends with: read back from the database, or UNKNOWN with the exact
    reason and the SQL to check by hand. Never "not touched" guesswork: always what the database says now."""
    state = reread_state(t)
    if isinstance(state, str):
        return (
            f"kill switch: UNKNOWN — cannot read it back ({state}); treat it as ACTIVE and check by hand: "
            f"{kill_switch_state.CHECK_BY_HAND}"
        )
    return f"kill switch: {state.full()} — read back from the database at {state.db_now.isoformat()}"


class _Runner:
    def __init__(self, t: Target, db: Db, opts: FlowOptions, flow: KillSwitchFlow) -> None:
        self.t, self.db, self.opts, self.flow = t, db, opts, flow
        self.rec = Recorder(t.redactor)
        self.active = False  # True from the moment this run may have activated the switch until it deactivated it
        self.limit_ms = t.thresholds.kill_switch_max_ms
        self.wait_s = float(self.limit_ms) / 1000 + GRACE_S
        # what one step hands the next: the pre-test decision, the activation and release times, the first HALT
        self.baseline: dict[str, Any] | None = None
        self.activated_at = self.released_at = datetime.min
        self.halt: tuple[dict[str, Any], float, test_signal.SignalReply | None] | None = None

    # -- bookkeeping ------------------------------------------------------------------------------------------
    def ok(self, item: str, observed: Any, expected: Any, reason: str, *evidence: Evidence) -> None:
        self.flow.results[item] = passed(observed, expected, reason, *evidence)
        self.flow.say(f"{item} passed: {reason}")

    def fail(
        self, item: str, observed: Any, expected: Any, reason: str, *evidence: Evidence, cause: Cause | None = None
    ) -> StepFailed:
        reason += self.claim()
        self.flow.results[item] = failed(observed, expected, reason, *evidence, cause=cause)
        self.flow.stop_reason = f"{item} failed"
        self.flow.stopped_at = item
        self.flow.say(f"{item} FAILED: {reason}")
        return StepFailed(reason)

    def claim(self) -> str:
        """What this run leaves the kill switch as, from the committed state re-read now (never from a flag set
        before an UPDATE that may not have committed). Empty when this run never tried to activate it."""
        if not self.active:
            return ""
        state = reread_state(self.t)
        if isinstance(state, str):
            self.flow.left_active = True  # fail safe: treat as active, but say we could not see it
            return ": kill switch state UNKNOWN (cannot re-read it from the database): treat it as ACTIVE"
        if state.active:
            self.flow.left_active = True
            return ": kill switch LEFT ACTIVE"
        self.active = self.flow.left_active = False
        return ": kill switch INACTIVE (re-read from the database: the activation never committed)"

    def evidence(self) -> list[Evidence]:
        ev = [Evidence("kill-switch procedure", "\n".join(self.flow.procedure)), self.db.log.evidence()]
        if self.rec.exchanges:
            ev.append(Evidence("HTTP", self.rec.render()))
        return ev

    def poll(self, query: str, since: datetime, timeout_s: float) -> tuple[dict[str, Any] | None, float]:
        start = time.monotonic()
        while True:
            row = self.db.one(query, (since,))
            waited = (time.monotonic() - start) * 1000
            if row is not None or waited >= timeout_s * 1000:
                return row, waited
            time.sleep(POLL_S)

    # -- the steps ----------------------------------------------------------------------------------------------
    def run(self) -> None:
        """The steps in §4.3's order (4.4.4 only with a test signal); a database error fails the step it broke."""
        steps: list[tuple[str, Callable[[], object]]] = [
            ("4.4.1", self.initial_state),
            ("4.4.2", self.activate),
            ("4.4.3", self.await_halt),
            (RESPONSE_TIME, self.response_time),
        ]
        if self.opts.send_test_signal:
            steps.append(("4.4.4", self.test_trade))
        steps += [("4.4.5", self.deactivate), ("4.4.6", self.await_allow)]
        StepRun((DbError,), self.database_error).run(steps)

    def database_error(self, item: str, exc: Exception) -> str:
        return str(self.fail(item, "database error", "completed", f"database error: {exc}"))

    def initial_state(self) -> None:
        state = kill_switch_state.read_state(self.db)
        self.flow.say(f"step 1: kill switch (system_settings.circuit_breaker_active) {state.full()}")
        if state.active:
            raise self.fail(
                "4.4.1",
                state.full(),
                "INACTIVE before the test",
                f"kill switch already {state.describe()}: left untouched, not tested",
                cause=kill_switch_state.active_cause(
                    f"the kill switch is already {state.describe()}: the §4.3 test cannot start"
                ),
            )
        baseline, _ = self.poll(_LATEST_DECISION, state.db_now, BASELINE_WAIT_S)
        also = f"; also {'; '.join(state.other_halts())}" if state.other_halts() else ""
        if baseline is None:
            self.flow.per_signal = True
            self.flow.say(
                f"the bot recorded no policy decision in {BASELINE_WAIT_S:.0f} s: it decides per signal, so a signed "
                "test signal will force each decision"
            )
            self.ok("4.4.1", f"INACTIVE{also}", "INACTIVE", f"kill switch INACTIVE{also}; bot decides per signal")
            return
        decided = f"{baseline['policy_decision']}/{baseline['reason_code']}"
        self.ok(
            "4.4.1",
            f"INACTIVE, bot deciding {decided}{also}",
            "INACTIVE",
            f"kill switch INACTIVE; bot decides {decided}{also}",
        )
        self.baseline = baseline

    def activate(self) -> None:
        if self.opts.method == "api":
            problem = method2_problem(self.t, self.rec)
            if problem:
                raise self.fail("4.4.2", "Method 2 unavailable", "ACTIVE via the guardian API", problem)
            self.flow.say("guardian API refuses callers without the secret and with a wrong one")
        reason = self.opts.hold_reason
        self.active = self.flow.touched = True
        note = None
        if self.opts.method == "sql":
            hold = kill_switch_state.activate_if_inactive(self.db, reason)
            if hold is None:  # somebody activated it after step 1: theirs, left alone
                self.active = False
                raise self.fail(
                    "4.4.2",
                    "ACTIVE, not the verification's",
                    "INACTIVE until the verification activates it",
                    "somebody else activated the kill switch before the verification could: "
                    f"{kill_switch_state.holder(self.db)}; left untouched, not tested",
                )
            event_id, note = kill_switch_state.write_event(
                self.db, activated=True, reason=reason, operator=self.opts.operator, via="opscheck sql"
            )
        else:
            problem = guardian.set_kill_switch(self.t, self.rec, activate=True, reason=reason)
            if problem:
                state = kill_switch_state.read_state(self.db)
                self.active = state.active and state.reason == reason
                raise self.fail("4.4.2", state.describe(), "ACTIVE", f"activation failed: {problem}")
            hold = kill_switch_state.current_hold(self.db, reason)
            if hold is None:
                state = kill_switch_state.read_state(self.db)
                self.active = False
                if state.active:
                    raise self.fail(
                        "4.4.2",
                        state.describe(),
                        f"ACTIVE with reason {reason}",
                        f"after the API activation the kill switch is not the verification's own hold: "
                        f"{kill_switch_state.holder(self.db)}; left untouched",
                    )
                raise self.fail(
                    "4.4.2", state.describe(), "ACTIVE", "kill switch still INACTIVE after the api activation"
                )
            event = self.db.one(_OWN_LOCK_EVENT, (reason + "%",))
            event_id = int(event["id"]) if event else None
        self.flow.hold = hold
        state = kill_switch_state.read_state(self.db)
        self.flow.say(f"step 2: kill switch activated via {self.opts.method}; database says {state.describe()}")
        if note and note.startswith("circuit_breaker_events"):
            raise self.fail(
                "4.4.2",
                f"{state.describe()}, no audit event",
                "ACTIVE, MANUAL_LOCK recorded",
                note,
                cause=_event_cause(self.t, note),
            )
        if note:
            self.flow.say(note)
        if event_id is None:
            raise self.fail(
                "4.4.2",
                f"{state.describe()}, no audit event",
                "ACTIVE, MANUAL_LOCK recorded",
                f"kill switch ACTIVE but no {kill_switch_state.ACTIVATED_EVENT} row in circuit_breaker_events",
            )
        self.flow.hold = hold = dataclasses.replace(hold, event_id=event_id)
        self.ok(
            "4.4.2",
            state.describe(),
            "ACTIVE",
            f"kill switch ACTIVE via {self.opts.method}; circuit_breaker_events MANUAL_LOCK id={event_id}",
        )
        self.activated_at = hold.at

    def _probe(self, why: str) -> test_signal.SignalReply:
        reply = test_signal.send_signal(self.t, recorder=self.rec, timeout=3.0)
        self.flow.say(f"{why}: signed test signal {reply.signal_id} → {reply.describe()}")
        return reply

    def await_halt(self) -> None:
        activated_at = self.activated_at
        probe = self._probe("forcing a decision") if self.flow.per_signal else None
        halt, waited_ms = self.poll(_FIRST_HALT, activated_at, self.wait_s)
        if halt is None:
            forced = f" (test signal {probe.signal_id}: {probe.describe()})" if probe else ""
            raise self.fail(
                "4.4.3",
                f"no HALT in {waited_ms:.0f} ms",
                "HALT / HALT_KILL_SWITCH",
                f"bot recorded no HALT_KILL_SWITCH decision in policy_decision_audit within {waited_ms:.0f} ms of "
                f"the kill switch{forced}",
                cause=NO_HALT,
            )
        self.ok(
            "4.4.3",
            f"{HALT}/{HALT_KILL_SWITCH}",
            f"{HALT}/{HALT_KILL_SWITCH}",
            f"bot decided HALT_KILL_SWITCH at {halt['timestamp_utc'].isoformat()}"
            + (" for the test signal" if probe else ""),
        )
        self.halt = (halt, waited_ms, probe)

    def response_time(self) -> None:
        assert self.halt is not None
        (halt, waited_ms, probe), activated_at = self.halt, self.activated_at
        db_ms = Decimal((halt["timestamp_utc"] - activated_at).total_seconds() * 1000).quantize(Decimal("0.1"))
        latency = max(Decimal(str(round(waited_ms, 1))), db_ms)
        self.flow.latency_ms = latency
        figure = Evidence(
            "kill-switch latency",
            f"latency_ms={latency}\npolled_ms={waited_ms:.1f}\ndb_clock_ms={db_ms}\nlimit_ms={self.limit_ms}\n"
            f"method={self.opts.method}\npoll_interval_ms={POLL_S * 1000:.0f}\n"
            f"forced_by_signal={'yes' if probe else 'no'}",
        )
        self.flow.say(f"response time {latency} ms (polled {waited_ms:.1f} ms; database clock {db_ms} ms)")
        if latency > self.limit_ms:
            raise self.fail(
                RESPONSE_TIME,
                f"{latency} ms",
                f"< {self.limit_ms} ms",
                f"kill switch took {latency} ms to HALT the bot (limit {self.limit_ms} ms)",
                figure,
            )
        self.ok(
            RESPONSE_TIME,
            f"{latency} ms",
            f"< {self.limit_ms} ms",
            f"HALT {latency} ms after the committed UPDATE",
            figure,
        )

    def test_trade(self) -> None:
        before = self.opts.exchange_orders() if self.opts.exchange_orders else None
        reply = self._probe("step 4")
        sid = reply.signal_id
        if reply.error or reply.status_code is None:
            raise self.fail("4.4.4", "no answer", "rejected", f"test signal {sid} not answered: {reply.describe()}")
        cid = reply.correlation_id
        if reply.status_code != 200 or not cid:
            raise self.fail(
                "4.4.4",
                reply.describe(),
                "rejected by the policy",
                f"test signal {sid} refused before the policy ({reply.describe()}): the kill switch was not tested",
            )
        problems: list[str] = []
        if reply.trade_decision == "APPROVED":
            problems.append("webhook answered trade_decision APPROVED")
        if reply.policy_decision not in (None, HALT):
            problems.append(f"webhook answered policy decision {reply.policy_decision}")
        if reply.answer.get("order_submitted"):
            problems.append("bot reports the order as submitted")
        try:
            audit = self.db.rows(
                "SELECT policy_decision, reason_code FROM policy_decision_audit WHERE correlation_id = %s::uuid",
                (cid,),
            )
        except DbError as exc:
            raise self.fail("4.4.4", "unreadable", "rejected", f"test trade {cid}: {exc}") from None
        if not audit:
            problems.append(f"no policy decision recorded for correlation_id {cid}")
        elif any((r["policy_decision"], r["reason_code"]) != (HALT, HALT_KILL_SWITCH) for r in audit):
            seen = ", ".join(f"{r['policy_decision']}/{r['reason_code']}" for r in audit)
            problems.append(f"audit log holds {seen} for {cid}")
        time.sleep(ORDER_GRACE_S)
        orders = self.db.rows("SELECT order_id, status FROM trading_orders WHERE correlation_id = %s::uuid", (cid,))
        if orders:
            problems.append(f"{len(orders)} order(s) recorded in trading_orders")
        after = self.opts.exchange_orders() if self.opts.exchange_orders else None
        if before is not None and after != before:
            problems.append(f"{(after or 0) - before} order(s) reached the exchange")
        problems += self._exchange_lookup(cid)
        if problems:
            raise self.fail(
                "4.4.4",
                "; ".join(problems),
                "rejected, no order",
                f"test trade {sid} not blocked while the kill switch is ACTIVE: " + "; ".join(problems),
            )
        self.ok(
            "4.4.4",
            f"{HALT}/{HALT_KILL_SWITCH}, no order",
            "rejected, no order",
            f"test trade {sid} (correlation_id {cid}) rejected: {HALT}/{HALT_KILL_SWITCH}; no order reached the "
            "exchange",
        )

    def _exchange_lookup(self, cid: str) -> list[str]:
        key, secret = self.t.secret("VALR_API_KEY"), self.t.secret("VALR_API_SECRET")
        if not key or not secret:
            self.flow.say("VALR credentials not configured: exchange order lookup skipped")
            return []
        client = ValrClient(
            self.t.valr_base_url, key, secret, transport=self.t.valr_transport, recorder=self.rec, timeout=3.0
        )
        try:
            client.order_status(test_signal.DEFAULT_SYMBOL, cid)
        except ValrError as exc:
            if exc.http_status == 404:
                self.flow.say(f"VALR has no order with customerOrderId {cid}")
            else:
                self.flow.say(f"VALR order lookup inconclusive: {exc}")
            return []
        return [f"VALR holds an order with customerOrderId {cid}"]

    def deactivate(self) -> None:
        """§4.3 Step 5 (the runbook's SQL, whichever method activated): a compare-and-set on the verification's own
        hold, so a switch somebody else activated, re-activated or changed meanwhile is never released."""
        hold = self.flow.hold
        assert hold is not None
        at, note = kill_switch_state.release_hold(self.db, hold, operator=self.opts.operator, via="opscheck sql")
        if note:
            self.flow.say(note)
        if at is None:
            who = kill_switch_state.holder(self.db, hold.event_id)
            self.flow.say(f"step 5: NOT deactivated: the kill switch is no longer the verification's own: {who}")
            raise self.fail(
                "4.4.5",
                who,
                f"still the verification's own hold ({hold.reason})",
                f"not deactivated: somebody else activated or changed the kill switch during the verification: {who}",
            )
        state = kill_switch_state.read_state(self.db)
        self.active = False
        if state.active:  # activated again by somebody else right after the release: theirs now
            raise self.fail(
                "4.4.5",
                state.describe(),
                "INACTIVE",
                f"kill switch ACTIVE again right after the release: {kill_switch_state.holder(self.db, hold.event_id)}",
            )
        self.ok(
            "4.4.5",
            "INACTIVE",
            "INACTIVE",
            "kill switch deactivated (runbook §4.3 Step 5, compare-and-set on the verification's own hold); "
            "circuit_breaker_events MANUAL_UNLOCK recorded",
        )
        self.released_at = at

    def _reactivate(self, why: str) -> None:
        """Fail-safe: activate again, only if nobody else already has (their reason and time stay)."""
        reason = f"{self.opts.hold_reason} fail-safe"
        hold = kill_switch_state.activate_if_inactive(self.db, reason)
        self.active = True
        if hold is None:
            self.flow.say(f"{why}: kill switch already ACTIVE again, not by the verification: {self._holder()}")
            return
        note = kill_switch_state.record_event(
            self.db, activated=True, reason=reason, operator=self.opts.operator, via="opscheck sql"
        )
        self.flow.say(f"{why}: kill switch ACTIVATED again (fail-safe)" + (f"; {note}" if note else ""))

    def _holder(self) -> str:
        return kill_switch_state.holder(self.db, self.flow.hold.event_id if self.flow.hold else None)

    def await_allow(self) -> None:
        released_at, baseline = self.released_at, self.baseline
        if self.flow.per_signal:
            if self.t.value("EXECUTION_MODE", "").strip().upper() != "DRY_RUN":
                self._reactivate("per-signal bot not in DRY_RUN")
                why = (
                    "the bot decides per signal only and EXECUTION_MODE is not DRY_RUN: a test signal it ALLOWs "
                    "would trade, so ALLOW cannot be proven" + self.claim()
                )
                self.flow.results["4.4.6"] = not_verified(
                    why,
                    cause=Cause(
                        "setting",
                        "EXECUTION_MODE",
                        "step 6 of the kill-switch test needs a signal the bot ALLOWs, which outside DRY_RUN trades",
                        "run the kill-switch verification with the bot in DRY_RUN (EXECUTION_MODE=DRY_RUN), then "
                        "deactivate the switch it leaves ACTIVE: opscheck kill-switch deactivate --allow-mutations",
                    ),
                    expected=ALLOW,
                )
                self.flow.stop_reason, self.flow.stopped_at = "4.4.6 not verified", "4.4.6"
                self.flow.say(f"4.4.6 NOT VERIFIED: {why}")
                raise StepFailed(why)
            self._probe("step 6")
        after, waited = self.poll(_FIRST_AFTER_RELEASE, released_at, self.wait_s)
        if self.opts.require_allow or baseline is None:
            want: tuple[str, str | None] = (ALLOW, None)
        else:
            want = (baseline["policy_decision"], baseline["reason_code"])
        seen = f"{after['policy_decision']}/{after['reason_code']}" if after else "still HALT_KILL_SWITCH"
        good = after is not None and after["policy_decision"] == want[0] and want[1] in (None, after["reason_code"])
        state = kill_switch_state.read_state(self.db)
        if state.active:  # somebody activated it again after the verification released it: theirs, left alone
            self.active = True
            raise self.fail(
                "4.4.6",
                f"{seen}; {state.describe()}",
                want[0] if want[1] is None else f"{want[0]}/{want[1]}",
                f"the kill switch was activated again by somebody else after the verification released it: "
                f"{self._holder()}; not touched",
            )
        if not good:
            self._reactivate("bot did not return to its pre-test decision")
            raise self.fail(
                "4.4.6",
                seen,
                want[0] if want[1] is None else f"{want[0]}/{want[1]}",
                f"{waited:.0f} ms after deactivation the bot decides {seen}, not {want[0]} (runbook §4.3 Step 6)",
            )
        self.ok("4.4.6", seen, want[0], f"bot decides {seen} {waited:.0f} ms after deactivation")


def _record_test(db: Db, flow: KillSwitchFlow, operator: str) -> None:
    """Who ran the kill-switch test and how it ended (SOP daily prevention: ``kill_switch_test``)."""
    if "4.4.5" not in flow.results and not flow.left_active:
        return
    outcome = "passed" if flow.ok and "4.4.6" in flow.results else "failed"
    try:
        db.rows(
            "INSERT INTO opscheck.ops_prevention_records (activity, subject, performed_by, outcome, details) "
            "VALUES ('kill_switch_test', 'daily', %s, %s, %s)",
            (
                operator or "opscheck",
                outcome,
                Jsonb({"method": flow.method, "latency_ms": str(flow.latency_ms), "left_active": flow.left_active}),
            ),
        )
    except DbError as exc:
        flow.say(f"kill-switch test not recorded in opscheck.ops_prevention_records ({exc}): run `opscheck init`")


def flow_result(t: Target, flow: KillSwitchFlow, item_id: str) -> CheckResult:
    """What a §4.4/§4.5 item's When step returns (the registry's reader of the kill-switch flow, ``Item.drill``):
    the session's flow's result for the item, on either target (``KillSwitchFlow.result``)."""
    return flow.result(item_id)


def run_flow(t: Target, opts: FlowOptions | None = None, flow: KillSwitchFlow | None = None) -> KillSwitchFlow:
    """The whole §4.3 procedure, once. Never raises except to pass on an interruption (after saying so). A caller
    that passes ``flow`` still knows, after an interruption, whether the switch was touched (``flow.touched``)."""
    opts = opts or FlowOptions()
    flow = flow or KillSwitchFlow(opts.method)
    if opts.method not in METHODS:
        flow.results["4.4.1"] = failed(opts.method, METHODS, f"unknown activation method {opts.method!r}")
        flow.stop_reason = "unknown activation method"
        return flow
    if not t.allow_mutations:
        flow.stop_reason = "needs --allow-mutations (read-only run)"
        return flow
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            if not kill_switch_state.try_lock(db):
                flow.results["4.4.1"] = failed(
                    "lock busy",
                    "exclusive run",
                    "refused: another mutating kill-switch run holds the advisory lock",
                    db.log.evidence(),
                )
                flow.stop_reason = "another mutating run holds the kill-switch lock"
                return flow
            runner = _Runner(t, db, opts, flow)
            try:
                runner.run()
            except BaseException as exc:
                if runner.active:
                    flow.left_active = True  # fail safe until the database says otherwise
                    with signals.deferred():  # a second Ctrl-C must not cut the claim short (it is bounded)
                        claim = runner.claim()
                        flow.say(f"INTERRUPTED between activation and deactivation{claim}")
                    if isinstance(exc, KeyboardInterrupt) and flow.left_active:
                        raise Interrupted(
                            f"kill-switch verification interrupted{claim}; "
                            "deactivate it with `opscheck kill-switch deactivate` once it is safe"
                        ) from exc
                raise
            finally:
                with signals.deferred():
                    with contextlib.suppress(Exception):
                        _record_test(db, flow, opts.operator)
                    with contextlib.suppress(Exception):
                        kill_switch_state.unlock(db)
            for result in flow.results.values():
                result.evidence.extend(runner.evidence())
    except DbError as exc:
        flow.results.setdefault("4.4.1", failed("no connection", "INACTIVE", f"cannot reach the database: {exc}"))
        flow.stop_reason = flow.stop_reason or "database unreachable"
    return flow


def verify_kill_switch(t: Target, operator: str = "opscheck") -> CheckResult:
    """1.3.1: activate → HALT proven within the limit → deactivate → the pre-test decision returns."""
    flow = run_flow(t, FlowOptions(send_test_signal=False, require_allow=False, operator=operator))
    for item in FLOW_ORDER:
        result = flow.outcome(item)
        if result is not None and not result.ok:
            return result
    if not flow.ok or flow.outcome("4.4.6") is None:
        return failed("not completed", "activates/deactivates", flow.not_reached("4.4.6").reason)
    restored = flow.results["4.4.6"]
    evidence = flow.results[RESPONSE_TIME].evidence[:1] + restored.evidence
    return passed(
        f"HALT in {flow.latency_ms} ms, restored {restored.observed}",
        f"HALT < {t.thresholds.kill_switch_max_ms} ms",
        f"kill switch HALT in {flow.latency_ms} ms; {restored.observed} restored",
        *evidence,
    )
