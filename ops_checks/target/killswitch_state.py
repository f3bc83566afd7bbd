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
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from ops_checks.target.db import Db, DbError

LOCK_KEY = 0x0B5C4EC4  # Postgres advisory lock id: no two mutating kill-switch runs at once (DESIGN.md §7)
ACTIVATED_EVENT = "MANUAL_LOCK"  # circuit_breaker_events.event_type (migration 011's CHECK)
RELEASED_EVENT = "MANUAL_UNLOCK"
REASON_MAX = 100  # circuit_breaker_events.trigger_reason and system_settings.circuit_breaker_reason: varchar(100)
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
    others = {
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


def deactivate(db: Db) -> datetime:
    """§4.3 Step 5 (and §6.5 Step 3: the unlock time is cleared too). No audit row: see ``deactivate_recorded``."""
    return _changed(
        db.one(
            "UPDATE system_settings SET circuit_breaker_active = FALSE, circuit_breaker_reason = NULL, "
            "circuit_breaker_triggered_at = NULL, circuit_breaker_unlock_at = NULL "
            "WHERE id = %s RETURNING clock_timestamp() AS at",
            (1,),
        )
    )


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
    event = ACTIVATED_EVENT if activated else RELEASED_EVENT
    cid = uuid.uuid4()
    try:
        db.rows(
            "INSERT INTO circuit_breaker_events (event_type, trigger_reason) VALUES (%s, %s)",
            (event, _trigger_reason(reason, via)),
        )
    except DbError as exc:
        return f"circuit_breaker_events {event} row not written: {exc}"
    return record_operator(
        db, ACTION_ACTIVATE if activated else ACTION_DEACTIVATE, operator, cid, {"reason": reason, "via": via}
    )


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
