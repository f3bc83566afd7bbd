"""Runbook §1.3.1 / §4: the kill switch activates and deactivates, and the bot's policy follows.

Safety (DESIGN.md §7): the verification holds a Postgres advisory lock, so two mutating runs never overlap;
it refuses to touch a kill switch somebody else activated; it deactivates only after HALT was proven; on any
failure or interruption it leaves the kill switch ACTIVE and says so.

Latency is measured from the committed UPDATE to the first HALT_KILL_SWITCH decision the bot records,
polling every 10 ms (the runbook's own ``sleep 1`` script can never come in under 1000 ms: DESIGN.md §8.1).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from ops_checks.config import Target
from ops_checks.db import Db, DbError, connect
from ops_checks.result import CheckResult, Evidence, failed, passed

LOCK_KEY = 0x0B5C4EC4  # advisory lock id for mutating kill-switch runs
VERIFICATION_REASON = "VERIFICATION_TEST"
POLL_S = 0.01

_LATEST_DECISION = """
SELECT policy_decision, reason_code, timestamp_utc FROM policy_decision_audit
WHERE timestamp_utc >= %s AND correlation_id NOT LIKE 'OPSCHECK-%%'
ORDER BY timestamp_utc DESC, id DESC LIMIT 1"""

_FIRST_HALT = """
SELECT policy_decision, reason_code, timestamp_utc FROM policy_decision_audit
WHERE timestamp_utc >= %s AND reason_code = 'HALT_KILL_SWITCH'
ORDER BY timestamp_utc, id LIMIT 1"""

_FIRST_AFTER_RELEASE = """
SELECT policy_decision, reason_code, timestamp_utc FROM policy_decision_audit
WHERE timestamp_utc > %s AND reason_code <> 'HALT_KILL_SWITCH' AND correlation_id NOT LIKE 'OPSCHECK-%%'
ORDER BY timestamp_utc, id LIMIT 1"""


@dataclass
class KillSwitchRun:
    steps: list[str]

    def say(self, text: str) -> None:
        self.steps.append(f"{datetime.now().astimezone().isoformat(timespec='milliseconds')} {text}")


class LockBusy(Exception):
    """Another mutating run holds the kill-switch lock."""


def _poll(db: Db, query: str, since: datetime, timeout_s: float) -> tuple[dict[str, Any] | None, float]:
    start = time.monotonic()
    deadline = start + timeout_s
    while True:
        row = db.one(query, (since,))
        if row is not None:
            return row, (time.monotonic() - start) * 1000
        if time.monotonic() >= deadline:
            return None, (time.monotonic() - start) * 1000
        time.sleep(POLL_S)


def _event(db: Db, event_type: str, reason: str, operator: str) -> None:
    db.rows(
        "INSERT INTO circuit_breaker_events (event_type, trigger_reason, operator) VALUES (%s, %s, %s)",
        (event_type, reason, operator),
    )


def verify_kill_switch(t: Target, operator: str = "opscheck") -> CheckResult:
    """Activate → HALT proven within the limit → deactivate → the pre-test decision returns."""
    limit_ms = t.thresholds.kill_switch_max_ms
    run = KillSwitchRun([])
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            got = db.one("SELECT pg_try_advisory_lock(%s) AS ok", (LOCK_KEY,))
            if not got or not got["ok"]:
                return failed("lock busy", "exclusive run", "another mutating run holds the kill-switch lock: refused")
            try:
                return _verify(t, db, run, limit_ms, operator)
            finally:
                db.rows("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    except DbError as exc:
        run.say(f"database error: {exc}")
        return failed(
            "error",
            "activates/deactivates",
            f"kill switch verification failed: {exc}; switch state "
            "unknown: check it (opscheck leaves it ACTIVE on failure)",
            Evidence("procedure", "\n".join(run.steps)),
        )


def _verify(t: Target, db: Db, run: KillSwitchRun, limit_ms: Decimal, operator: str) -> CheckResult:
    def evidence() -> list[Evidence]:
        return [Evidence("procedure", "\n".join(run.steps)), db.log.evidence()]

    state = db.one(
        "SELECT circuit_breaker_active, circuit_breaker_reason, now() AS db_now FROM system_settings WHERE id = %s",
        (1,),
    )
    if state is None:
        return failed("no settings row", "activates/deactivates", "system_settings id=1 missing", *evidence())
    run.say(f"step 1: initial state active={state['circuit_breaker_active']} reason={state['circuit_breaker_reason']}")
    if state["circuit_breaker_active"]:
        return failed(
            "already ACTIVE",
            "inactive before the test",
            f"kill switch already ACTIVE ({state['circuit_breaker_reason']}): left untouched",
            *evidence(),
        )
    baseline, _ = _poll(db, _LATEST_DECISION, state["db_now"], 2.0)
    if baseline is None:
        return failed(
            "no decisions",
            "policy loop deciding",
            "the bot recorded no policy decision in 2 s: cannot verify the kill switch",
            *evidence(),
        )
    run.say(f"baseline decision {baseline['policy_decision']} / {baseline['reason_code']}")

    updated = db.one(
        "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = %s, "
        "circuit_breaker_triggered_at = NOW() WHERE id = %s RETURNING clock_timestamp() AS at",
        (VERIFICATION_REASON, 1),
    )
    assert updated is not None
    activated_at = updated["at"]
    _event(db, VERIFICATION_REASON, "kill switch verification: activate", operator)
    run.say("step 2: kill switch ACTIVATED (UPDATE committed)")

    halt, waited_ms = _poll(db, _FIRST_HALT, activated_at, float(limit_ms) / 1000 + 1.0)
    if halt is None:
        run.say(f"step 3: no HALT_KILL_SWITCH decision within {waited_ms:.0f} ms; kill switch LEFT ACTIVE")
        return failed(
            "no HALT",
            f"HALT within {limit_ms} ms",
            f"bot did not HALT within {waited_ms:.0f} ms of the kill switch: LEFT ACTIVE",
            *evidence(),
        )
    db_ms = Decimal((halt["timestamp_utc"] - activated_at).total_seconds() * 1000).quantize(Decimal("0.1"))
    latency = max(Decimal(str(round(waited_ms, 1))), db_ms)
    run.say(
        f"step 3: HALT_KILL_SWITCH after {latency} ms (observed by polling {waited_ms:.1f} ms; DB clock {db_ms} ms)"
    )
    if latency > limit_ms:
        return failed(
            f"{latency} ms",
            f"< {limit_ms} ms",
            f"kill switch took {latency} ms to HALT (limit {limit_ms} ms): LEFT ACTIVE",
            *evidence(),
        )

    released = db.one(
        "UPDATE system_settings SET circuit_breaker_active = FALSE, circuit_breaker_reason = NULL, "
        "circuit_breaker_triggered_at = NULL WHERE id = %s RETURNING clock_timestamp() AS at",
        (1,),
    )
    assert released is not None
    _event(db, f"{VERIFICATION_REASON}_RELEASED", "kill switch verification: deactivate", operator)
    run.say("step 5: kill switch DEACTIVATED")
    after, waited = _poll(db, _FIRST_AFTER_RELEASE, released["at"], float(limit_ms) / 1000 + 1.0)
    if after is None or (after["policy_decision"], after["reason_code"]) != (
        baseline["policy_decision"],
        baseline["reason_code"],
    ):
        seen = f"{after['policy_decision']}/{after['reason_code']}" if after else "no new decision"
        return failed(
            seen,
            f"{baseline['policy_decision']}/{baseline['reason_code']}",
            f"after deactivation the bot decided {seen}, not the pre-test decision",
            *evidence(),
        )
    run.say(f"step 6: decision back to {after['policy_decision']} after {waited:.1f} ms")
    return passed(
        f"HALT in {latency} ms, restored {after['policy_decision']}",
        f"HALT < {limit_ms} ms",
        f"kill switch HALT in {latency} ms; {after['policy_decision']} restored",
        *evidence(),
        Evidence("kill-switch latency", f"latency_ms={latency}\npolled_ms={waited_ms:.1f}\ndb_clock_ms={db_ms}"),
    )
