"""The kill switch in the database (runbook §4.2 Method 1): read it, set it, record who did, serialise mutating runs.

The runbook's kill switch is ``system_settings.circuit_breaker_active`` (id=1), the flag the bot's
TradePermissionPolicy reads through its CircuitBreaker. The real bot's ``system_settings`` carries other switches
too; they are reported, never changed (TRADE_BOT migrations 009, 011, 012):

* ``circuit_breaker_active`` / ``_reason`` (varchar 100) / ``_triggered_at`` / ``_unlock_at``: the runbook's kill
  switch (migration 011; also set by the bot's loss circuit breaker).
* ``system_active`` (FALSE = halted) with ``kill_switch_reason`` / ``_triggered_at`` / ``_triggered_by``: the kill
  switch of migration 009, read by the bot's order dispatcher only, not by its policy.
* ``global_kill_switch`` and ``is_trading_enabled`` (migration 012): declared "emergency stop" and "master switch",
  read by no code of the bot at v1.9.0.

Every change is one autocommit statement on ``system_settings`` id=1 (committed when the call returns, so the bot
sees it) and a ``circuit_breaker_events`` row of the real schema: ``MANUAL_LOCK`` on activation, ``MANUAL_UNLOCK`` on
deactivation, ``trigger_reason`` NOT NULL and at most 100 characters. That table has no operator column, so who did
it goes to the suite's ``opscheck.ops_operator_actions`` (same uuid correlation id in its detail).

Activation commits the UPDATE first and writes the event after it (the switch must never wait on its audit row);
deactivation writes the UPDATE and the event in one statement, so a deactivation that cannot be audited does not
happen and the switch stays ACTIVE.

Ownership (the kill switch is shared safety state; an operator's action always wins):

* A procedure of the suite activates only an INACTIVE switch (compare-and-set), marks the hold as its own (a reason
  carrying a run token, e.g. ``VERIFICATION_TEST opscheck:1a2b3c4d``) and remembers what it wrote: :class:`Hold`.
* It releases only its own hold: one statement that deactivates only while the row is still exactly what it wrote
  (reason, time and the row version ``xmin``, which ANY later UPDATE changes, even the runbook's bare
  ``SET circuit_breaker_active = TRUE``) and no lock event was written after its own. Otherwise it leaves the switch
  ACTIVE and names who holds it (:func:`holder`).
* An operator's activation never waits behind a procedure (it takes no advisory lock; a row lock is retried until a
  deadline, :func:`activate_operator`). On a switch that is already ACTIVE it keeps the first reason and time and says
  so, except over a suite verification's temporary hold, which it takes over (so the verification's compare-and-set
  fails and the operator's reason is what everybody reads).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ops_checks.access.db import Db, DbError
from ops_checks.core.result import Cause

LOCK_KEY = 0x0B5C4EC4  # Postgres advisory lock id: no two mutating kill-switch runs at once (DESIGN.md §7)
ACTIVATED_EVENT = "MANUAL_LOCK"  # circuit_breaker_events.event_type (migration 011's CHECK)
RELEASED_EVENT = "MANUAL_UNLOCK"
REASON_MAX = 100  # circuit_breaker_events.trigger_reason and system_settings.circuit_breaker_reason: varchar(100)
LOCK_EVENTS = (ACTIVATED_EVENT, "DAILY_LOSS_TRIGGERED", "CONSECUTIVE_LOSS_TRIGGERED")  # events that (re)activate
SUITE_HOLD_PREFIX = "VERIFICATION_TEST opscheck:"  # a verification's hold: the runbook's reason plus a run token
CHECK_BY_HAND = (
    "SELECT circuit_breaker_active, circuit_breaker_reason, circuit_breaker_triggered_at FROM system_settings "
    "WHERE id = 1"
)
ACTION_ACTIVATE = "kill_switch_activate"
ACTION_DEACTIVATE = "kill_switch_deactivate"

#: The other switches of the real system_settings row, as (column, value meaning "halted", what it is).
OTHER_SWITCHES: tuple[tuple[str, bool, str], ...] = (
    ("system_active", False, "migration 009 kill switch, read by the bot's dispatcher"),
    ("global_kill_switch", True, "migration 012 emergency stop, read by no bot code"),
    ("is_trading_enabled", False, "migration 012 master switch, read by no bot code"),
)


@dataclass(frozen=True)
class KillSwitchState:
    active: bool
    reason: str | None
    triggered_at: datetime | None
    db_now: datetime
    others: dict[str, Any] = field(default_factory=dict)  # the other switches' columns, as read

    def describe(self) -> str:
        if not self.active:
            return "INACTIVE"
        when = self.triggered_at.isoformat(timespec="milliseconds") if self.triggered_at else "unknown time"
        return f"ACTIVE (reason {self.reason or 'none given'}, since {when})"

    def other_halts(self) -> list[str]:
        """The other switches that are set, one phrase each (empty when none is, or the columns do not exist)."""
        out = []
        for column, halted, meaning in OTHER_SWITCHES:
            if column in self.others and self.others[column] is halted:
                extra = ""
                if column == "system_active" and self.others.get("kill_switch_reason"):
                    extra = f", reason {self.others['kill_switch_reason']}"
                out.append(f"{column}={str(halted).upper()} ({meaning}{extra})")
        return out

    def full(self) -> str:
        """``describe()`` plus any other switch that is set."""
        halts = self.other_halts()
        return self.describe() + (f"; also {'; '.join(halts)}" if halts else "")


ACTIVE_SUBJECT = "system_settings.circuit_breaker_active"
ACTIVE_REMEDY = (
    "if it is an incident, open it: opscheck incident capture --operator NAME --detection TEXT; otherwise, once it is "
    "safe, deactivate it: opscheck kill-switch deactivate --allow-mutations --operator NAME"
)


def active_cause(detail: str) -> Cause:
    """An ACTIVE kill switch that keeps items from passing (the §4.3 test cannot start, §6 finds no incident for
    it): one cause for all of them, whatever each item says, with what to do about the switch."""
    return Cause("kill_switch_active", ACTIVE_SUBJECT, detail, ACTIVE_REMEDY)


class NoSettingsRow(DbError):
    """system_settings id=1 does not exist."""


def read_state(db: Db) -> KillSwitchState:
    row = db.one(
        "SELECT s.circuit_breaker_active, s.circuit_breaker_reason, s.circuit_breaker_triggered_at, "
        "to_jsonb(s) AS row, clock_timestamp() AS db_now FROM system_settings s WHERE id = %s",
        (1,),
    )
    if row is None:
        raise NoSettingsRow("system_settings id=1 is missing")
    data: dict[str, Any] = row["row"]
    others: dict[str, Any] = {
        k: data[k]
        for k in ("system_active", "global_kill_switch", "is_trading_enabled", "kill_switch_reason")
        if k in data
    }
    return KillSwitchState(
        row["circuit_breaker_active"] is True,
        row["circuit_breaker_reason"],
        row["circuit_breaker_triggered_at"],
        row["db_now"],
        others,
    )


def _changed(row: dict[str, Any] | None) -> datetime:
    if row is None:
        raise NoSettingsRow("system_settings id=1 is missing: nothing updated")
    at: datetime = row["at"]
    return at


def activate(db: Db, reason: str) -> datetime:
    """Method 1 of §4.2; returns the database clock at the (autocommitted) UPDATE."""
    return _changed(
        db.one(
            "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = %s, "
            "circuit_breaker_triggered_at = NOW() WHERE id = %s RETURNING clock_timestamp() AS at",
            (reason[:REASON_MAX], 1),
        )
    )


@dataclass(frozen=True)
class Hold:
    """What a procedure of the suite wrote when it activated the switch: the only state it may release."""

    reason: str | None
    triggered_at: datetime | None
    xmin: str  # the row version its UPDATE created; any later UPDATE of the row changes it
    at: datetime  # the database clock at the committed UPDATE
    event_id: int | None = None  # its own MANUAL_LOCK event: a lock event after it is somebody else's


def suite_hold_reason(token: str) -> str:
    return f"{SUITE_HOLD_PREFIX}{token}"[:REASON_MAX]


def is_suite_hold(reason: str | None) -> bool:
    return bool(reason) and str(reason).startswith(SUITE_HOLD_PREFIX)


def activate_if_inactive(db: Db, reason: str) -> Hold | None:
    """Compare-and-set activation: only an INACTIVE switch (one autocommitted UPDATE). None when it was already
    ACTIVE (somebody else holds it: nothing written) or the row is missing."""
    row = db.one(
        "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = %s, "
        "circuit_breaker_triggered_at = NOW() WHERE id = %s AND circuit_breaker_active IS NOT TRUE "
        "RETURNING circuit_breaker_reason AS reason, circuit_breaker_triggered_at AS triggered_at, "
        "xmin::text AS xmin, clock_timestamp() AS at",
        (reason[:REASON_MAX], 1),
    )
    if row is None:
        return None
    return Hold(row["reason"], row["triggered_at"], row["xmin"], row["at"])


def current_hold(db: Db, reason: str | None) -> Hold | None:
    """The hold as it stands, when the switch is ACTIVE with exactly ``reason`` (an activation made through the
    bot's API, which the suite cannot compare-and-set itself, or one a procedure has just checked); else None.
    Its ``event_id`` is the newest lock event now: a later one is somebody else's."""
    row = db.one(
        "SELECT circuit_breaker_reason AS reason, circuit_breaker_triggered_at AS triggered_at, xmin::text AS xmin, "
        "clock_timestamp() AS at, (SELECT max(id) FROM circuit_breaker_events WHERE event_type = ANY(%s)) AS event_id "
        "FROM system_settings WHERE id = %s AND circuit_breaker_active "
        "AND circuit_breaker_reason IS NOT DISTINCT FROM %s",
        (list(LOCK_EVENTS), 1, reason[:REASON_MAX] if reason is not None else None),
    )
    if row is None:
        return None
    return Hold(row["reason"], row["triggered_at"], row["xmin"], row["at"], row["event_id"])


def release_hold(
    db: Db, hold: Hold, *, operator: str, via: str, why: str | None = None
) -> tuple[datetime | None, str | None]:
    """Deactivate only the suite's own hold, with its MANUAL_UNLOCK event, in one statement: the row must still be
    exactly what ``hold`` wrote (reason, time, row version) and no lock event may follow ``hold.event_id``.

    Returns (database clock at the change, note); the clock is None when the switch was NOT released because it is
    no longer the suite's own (see :func:`holder`). Raises DbError when the statement fails (nothing changed)."""
    cid = uuid.uuid4()
    row = db.one(
        "WITH s AS (UPDATE system_settings SET circuit_breaker_active = FALSE, circuit_breaker_reason = NULL, "
        "circuit_breaker_triggered_at = NULL, circuit_breaker_unlock_at = NULL "
        "WHERE id = %(id)s AND circuit_breaker_active AND circuit_breaker_reason IS NOT DISTINCT FROM %(reason)s "
        "AND circuit_breaker_triggered_at IS NOT DISTINCT FROM %(triggered_at)s AND xmin::text = %(xmin)s "
        "AND NOT EXISTS (SELECT 1 FROM circuit_breaker_events WHERE id > %(event_id)s "
        "AND event_type = ANY(%(lock_events)s)) RETURNING id), "
        "e AS (INSERT INTO circuit_breaker_events (event_type, trigger_reason) SELECT %(released)s, %(why)s FROM s "
        "RETURNING id) "
        "SELECT clock_timestamp() AS at, (SELECT id FROM s) AS released, (SELECT id FROM e) AS event_id",
        {
            "id": 1,
            "reason": hold.reason,
            "triggered_at": hold.triggered_at,
            "xmin": hold.xmin,
            "event_id": hold.event_id or 0,
            "lock_events": list(LOCK_EVENTS),
            "released": RELEASED_EVENT,
            "why": _trigger_reason(why or hold.reason or "released", via),
        },
    )
    if row is None or row["released"] is None:
        return None, None
    note = record_operator(db, ACTION_DEACTIVATE, operator, cid, {"reason": why or hold.reason, "via": via})
    return row["at"], note


def holder(db: Db, since_event_id: int | None = None) -> str:
    """Who holds (or last changed) the kill switch, in one phrase: the state, the newest lock event (after
    ``since_event_id`` when given) and the operator the suite recorded for it, when any."""
    try:
        state = read_state(db)
    except DbError as exc:
        return f"UNKNOWN (cannot read it: {exc})"
    parts = [state.full()]
    try:
        event = db.one(
            "SELECT id, event_type, trigger_reason, created_at FROM circuit_breaker_events "
            "WHERE id > %s AND event_type = ANY(%s) ORDER BY id DESC LIMIT 1",
            (since_event_id or 0, list(LOCK_EVENTS)),
        )
    except DbError:
        event = None
    if event is not None:
        parts.append(
            f"last lock event {event['event_type']} id={event['id']} '{event['trigger_reason']}' at "
            f"{event['created_at'].isoformat(timespec='milliseconds')}"
        )
        try:
            who = db.one(
                "SELECT operator FROM opscheck.ops_operator_actions WHERE action = %s "
                "AND recorded_at BETWEEN %s - interval '5 seconds' AND %s + interval '5 seconds' "
                "ORDER BY id DESC LIMIT 1",
                (ACTION_ACTIVATE, event["created_at"], event["created_at"]),
            )
        except DbError:
            who = None
        if who is not None:
            parts.append(f"activated by {who['operator']}")
    return "; ".join(parts)


@dataclass(frozen=True)
class Activation:
    """What an operator's activation did: the state after it, whether it was already ACTIVE (first reason and time
    kept) and whose temporary verification hold it took over, if any."""

    state: KillSwitchState
    already_active: bool
    took_over: str | None
    attempts: int


class ActivationTimeout(DbError):
    """The row stayed locked past the deadline: the kill switch was NOT activated."""


ROW_LOCK_WAIT_MS = 1000  # one attempt's wait for a row lock, before it says so and retries


def activate_operator(
    db: Db,
    reason: str,
    *,
    deadline_s: float = 60.0,
    on_wait: Callable[[int, str], None] | None = None,
) -> Activation:
    """An operator's activation: always allowed, never behind a procedure's advisory lock. An INACTIVE switch gets
    ``reason`` and NOW(); an ACTIVE one keeps its first reason and time (its row version still changes, so a
    verification's compare-and-set fails), except a suite verification's temporary hold, which it takes over.
    A row lock held elsewhere is retried (``on_wait(attempt, why)``) until ``deadline_s``; then ActivationTimeout."""
    end = time.monotonic() + deadline_s
    attempt = 0
    db.rows(f"SET lock_timeout = {ROW_LOCK_WAIT_MS}")  # one attempt's wait; the session's own, reset below
    try:
        while True:
            attempt += 1
            try:
                row = db.one(
                    "WITH old AS (SELECT circuit_breaker_active IS TRUE AS was_active, "
                    "circuit_breaker_reason AS old_reason, "
                    "(circuit_breaker_active AND COALESCE(circuit_breaker_reason, '') NOT LIKE %(suite)s) AS keep "
                    "FROM system_settings WHERE id = %(id)s FOR UPDATE), "
                    "s AS (UPDATE system_settings SET circuit_breaker_active = TRUE, "
                    "circuit_breaker_reason = CASE WHEN old.keep THEN system_settings.circuit_breaker_reason "
                    "ELSE %(reason)s END, "
                    "circuit_breaker_triggered_at = CASE WHEN old.keep "
                    "THEN system_settings.circuit_breaker_triggered_at ELSE NOW() END "
                    "FROM old WHERE id = %(id)s RETURNING old.was_active, old.old_reason) "
                    "SELECT was_active, old_reason FROM s",
                    {"id": 1, "reason": reason[:REASON_MAX], "suite": SUITE_HOLD_PREFIX + "%"},
                )
                break
            except DbError as exc:
                if "lock timeout" not in str(exc):
                    raise
                if time.monotonic() >= end:
                    raise ActivationTimeout(
                        f"system_settings id=1 stayed locked by another session for {deadline_s:.0f} s "
                        f"({attempt} attempts): NOT activated"
                    ) from exc
                if on_wait is not None:
                    on_wait(attempt, f"system_settings id=1 is locked by another session ({exc})")
    finally:
        with contextlib.suppress(DbError):
            db.rows("SET lock_timeout = 0")
    if row is None:
        raise NoSettingsRow("system_settings id=1 is missing: nothing updated")
    was_active = row["was_active"] is True
    old_reason = row["old_reason"]
    took_over = old_reason if was_active and is_suite_hold(old_reason) else None
    return Activation(read_state(db), was_active and took_over is None, took_over, attempt)


def _trigger_reason(reason: str, via: str) -> str:
    text = f"{reason} (via {via})"
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def deactivate_recorded(db: Db, *, reason: str, operator: str, via: str) -> tuple[datetime, str | None]:
    """Deactivate and write the MANUAL_UNLOCK event in one statement (both or neither); then who did it.

    Raises DbError when the statement fails: the kill switch is then still ACTIVE. Returns the database clock at the
    change and a one-line note when the operator could not be recorded."""
    cid = uuid.uuid4()
    at = _changed(
        db.one(
            "WITH s AS (UPDATE system_settings SET circuit_breaker_active = FALSE, circuit_breaker_reason = NULL, "
            "circuit_breaker_triggered_at = NULL, circuit_breaker_unlock_at = NULL WHERE id = %s RETURNING id), "
            "e AS (INSERT INTO circuit_breaker_events (event_type, trigger_reason) SELECT %s, %s FROM s RETURNING id) "
            "SELECT clock_timestamp() AS at, (SELECT id FROM e) AS event_id FROM s",
            (1, RELEASED_EVENT, _trigger_reason(reason, via)),
        )
    )
    return at, record_operator(db, ACTION_DEACTIVATE, operator, cid, {"reason": reason, "via": via})


def record_event(db: Db, *, activated: bool, reason: str, operator: str, via: str) -> str | None:
    """Write the audit row and who did it; returns a one-line problem instead of raising (the switch itself already
    changed). A problem with the event row starts with ``circuit_breaker_events``."""
    return write_event(db, activated=activated, reason=reason, operator=operator, via=via)[1]


def write_event(db: Db, *, activated: bool, reason: str, operator: str, via: str) -> tuple[int | None, str | None]:
    """``record_event`` that also returns the event row's id (None when it was not written)."""
    event = ACTIVATED_EVENT if activated else RELEASED_EVENT
    cid = uuid.uuid4()
    try:  # no RETURNING: that needs SELECT on the table, and a role may write the audit row without reading it
        db.rows(
            "INSERT INTO circuit_breaker_events (event_type, trigger_reason) VALUES (%s, %s)",
            (event, _trigger_reason(reason, via)),
        )
    except DbError as exc:
        return None, f"circuit_breaker_events {event} row not written: {exc}"
    try:  # this session's own id from the table's sequence (None when the sequence cannot be read)
        row = db.one("SELECT currval(pg_get_serial_sequence('circuit_breaker_events', 'id')) AS id")
    except DbError:
        row = None
    note = record_operator(
        db, ACTION_ACTIVATE if activated else ACTION_DEACTIVATE, operator, cid, {"reason": reason, "via": via}
    )
    return (int(row["id"]) if row and row["id"] is not None else None), note


def record_operator(db: Db, action: str, operator: str, cid: uuid.UUID, detail: dict[str, Any]) -> str | None:
    """Who did it, in ``opscheck.ops_operator_actions``; a one-line note when that fails (suite schema missing)."""
    try:
        db.rows(
            "INSERT INTO opscheck.ops_operator_actions (correlation_id, action, detail, operator) "
            "VALUES (%s, %s, %s, %s)",
            (cid, action, Jsonb(detail), operator or "unknown"),
        )
    except DbError as exc:
        return f"operator not recorded in opscheck.ops_operator_actions ({exc}): run `opscheck init`"
    return None


def try_lock(db: Db) -> bool:
    row = db.one("SELECT pg_try_advisory_lock(%s) AS ok", (LOCK_KEY,))
    return bool(row and row["ok"])


def unlock(db: Db) -> None:
    db.rows("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
