"""The kill switch in the database (runbook §4.2 Method 1): read it, set it, record who did, serialise mutating runs.

Every change is one autocommit UPDATE of ``system_settings`` id=1 (committed when the call returns, so the bot's
policy loop can see it) followed by a ``circuit_breaker_events`` row naming the operator and the channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ops_checks.db import Db, DbError

LOCK_KEY = 0x0B5C4EC4  # Postgres advisory lock id: no two mutating kill-switch runs at once (DESIGN.md §7)
ACTIVATED_EVENT = "MANUAL_KILL_SWITCH"  # the event type §7.3.2's audit query lists as an activation
RELEASED_EVENT = "MANUAL_KILL_SWITCH_RELEASED"


@dataclass(frozen=True)
class KillSwitchState:
    active: bool
    reason: str | None
    triggered_at: datetime | None
    db_now: datetime

    def describe(self) -> str:
        if not self.active:
            return "INACTIVE"
        when = self.triggered_at.isoformat(timespec="milliseconds") if self.triggered_at else "unknown time"
        return f"ACTIVE (reason {self.reason or 'none given'}, since {when})"


class NoSettingsRow(DbError):
    """system_settings id=1 does not exist."""


def read_state(db: Db) -> KillSwitchState:
    row = db.one(
        "SELECT circuit_breaker_active, circuit_breaker_reason, circuit_breaker_triggered_at, "
        "clock_timestamp() AS db_now FROM system_settings WHERE id = %s",
        (1,),
    )
    if row is None:
        raise NoSettingsRow("system_settings id=1 is missing")
    return KillSwitchState(
        bool(row["circuit_breaker_active"]),
        row["circuit_breaker_reason"],
        row["circuit_breaker_triggered_at"],
        row["db_now"],
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
            "circuit_breaker_triggered_at = NOW(), updated_at = NOW() WHERE id = %s RETURNING clock_timestamp() AS at",
            (reason, 1),
        )
    )


def deactivate(db: Db) -> datetime:
    """§4.3 Step 5 (and §6.5 Step 3: the unlock time is cleared too)."""
    return _changed(
        db.one(
            "UPDATE system_settings SET circuit_breaker_active = FALSE, circuit_breaker_reason = NULL, "
            "circuit_breaker_triggered_at = NULL, circuit_breaker_unlock_at = NULL, updated_at = NOW() "
            "WHERE id = %s RETURNING clock_timestamp() AS at",
            (1,),
        )
    )


def record_event(db: Db, *, activated: bool, reason: str, operator: str, via: str) -> str | None:
    """Write the audit row; returns a one-line problem instead of raising (the switch itself already changed)."""
    try:
        db.rows(
            "INSERT INTO circuit_breaker_events (event_type, trigger_reason, operator) VALUES (%s, %s, %s)",
            (ACTIVATED_EVENT if activated else RELEASED_EVENT, f"{reason} (via {via})", operator),
        )
    except DbError as exc:
        return f"circuit_breaker_events row not written: {exc}"
    return None


def try_lock(db: Db) -> bool:
    row = db.one("SELECT pg_try_advisory_lock(%s) AS ok", (LOCK_KEY,))
    return bool(row and row["ok"])


def unlock(db: Db) -> None:
    db.rows("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
