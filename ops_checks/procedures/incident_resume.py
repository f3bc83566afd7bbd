"""Runbook §6.4 Pre-Resume Verification and §6.5 Resume Trading, for one incident record.

Order (fail-safe): 6.4.1 root cause documented, 6.4.2 fix documented (or why none applies), 6.4.4 health GREEN,
6.4.5 budget loaded, 6.4.6 clock drift < 1000 ms, 6.4.7 exchange reachable, 6.4.8 daily P&L reset (§6.5 Step 2:
only when a new UTC day began since the last reset; on the same day the limits must no longer be breached), and
only then 6.4.3: the kill switch, still active since the capture (never released in between), is deactivated,
the bot's next decision is ALLOW, and the resume is recorded (§6.5 Steps 3–4; in
``opscheck.ops_operator_actions``: the bot's policy_decision_audit cannot hold a RESUME row). The first failing
check stops the resume: the kill switch stays ACTIVE and the checks not reached are "not verified".
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from ops_checks.access import kill_switch_state
from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.checks import givens
from ops_checks.checks.s1_preconditions import exchange, logs
from ops_checks.checks.s8_clock_drift import drift
from ops_checks.core.result import CheckResult, Evidence, failed, not_verified, passed
from ops_checks.procedures import incident

CHECKS = {
    "6.4.1": "Root cause identified",
    "6.4.2": "Fix implemented (if applicable)",
    "6.4.3": "Kill switch deactivated",
    "6.4.4": "Health status GREEN",
    "6.4.5": "Budget integration loaded",
    "6.4.6": "Clock drift within tolerance",
    "6.4.7": "Exchange connectivity OK",
    "6.4.8": "Daily P&L reset",
}
ORDER = ("6.4.1", "6.4.2", "6.4.4", "6.4.5", "6.4.6", "6.4.7", "6.4.8", "6.4.3")
ALLOW_WAIT_S = 3.0
PNL_COLUMNS = "daily_pnl_zar, daily_pnl_pct, consecutive_losses, daily_pnl_reset_at"  # what §6.5 Step 2 resets
RESUME_ACTION = "incident_resume"  # opscheck.ops_operator_actions.action for §6.5 Step 4


@dataclass
class Resume:
    incident_id: str
    results: dict[str, CheckResult] = field(default_factory=dict)
    at: dict[str, str] = field(default_factory=dict)
    stopped: str = ""
    stopped_at: str | None = None  # the check whose failure stopped the resume
    resumed: bool = False

    def result(self, item: str) -> CheckResult | None:
        return self.results.get(item)

    def not_reached(self, item: str) -> CheckResult | None:
        """None when ``item`` was checked; else not verified, resting on the check that stopped the resume (the
        one way to say "not reached", as ``KillSwitchFlow.not_reached``)."""
        if item in self.results:
            return None
        if self.stopped_at is not None:
            at = self.stopped_at
            stopper = self.results.get(at)
            word = stopper.status.word if stopper is not None else "failed"
            return not_verified(
                f"the resume stopped because {at} {CHECKS[at]} {word}; kill switch left ACTIVE", blocked_by=(at,)
            )
        return not_verified(f"the resume stopped before {item}: {self.stopped or 'not run'}; kill switch left ACTIVE")

    def table(self) -> str:
        lines = [
            f"Incident {self.incident_id}: §6.4 pre-resume verification",
            "",
            "| # | Check | Expected | Actual | ✓ |",
            "|---|-------|----------|--------|---|",
        ]
        for item in CHECKS:
            r = self.results.get(item)
            mark = "☐" if r is None else ("☑" if r.ok else "☒")
            lines.append(
                f"| {item} | {CHECKS[item]} | {r.expected if r else ''} | "
                f"{r.summary() if r else 'not reached'} | {mark} |"
            )
        return "\n".join(lines) + "\n"


def _documented(text: str | None, label: str) -> CheckResult:
    if not text or not text.strip():
        return failed(
            "undocumented",
            "Documented",
            f"{label} not documented in the incident record (opscheck incident document): resume refused",
        )
    return passed("documented", "Documented", f"{label}: {text.strip()[:200]}")


def _pnl(t: Target, reset_daily: bool) -> CheckResult:
    with connect(t.db, t.redactor, read_only=False) as db:
        row = db.one(
            "SELECT daily_pnl_pct, daily_loss_limit_pct, consecutive_losses, max_consecutive_losses,"
            " daily_pnl_reset_at, now() AS db_now FROM system_settings WHERE id = 1"
        )
        if row is None:
            return failed("missing", "Reset", "system_settings id=1 is missing", db.log.evidence())
        last = row["daily_pnl_reset_at"]
        new_day = last is None or last.astimezone(UTC).date() < row["db_now"].astimezone(UTC).date()
        if new_day or reset_daily:
            try:
                db.rows(
                    "UPDATE system_settings SET daily_pnl_zar = 0.00, daily_pnl_pct = 0.000000,"
                    " consecutive_losses = 0, daily_pnl_reset_at = NOW() WHERE id = 1"
                )
            except DbError as exc:
                return failed(
                    "not reset",
                    "Reset",
                    f"§6.5 Step 2 cannot reset the daily P&L: {exc}",
                    db.log.evidence("§6.5 Step 2"),
                    cause=givens.table_cause(t, "system_settings", str(exc), f"UPDATE ({PNL_COLUMNS})"),
                )
            row = db.one(
                "SELECT daily_pnl_pct, daily_loss_limit_pct, consecutive_losses, max_consecutive_losses,"
                " daily_pnl_reset_at FROM system_settings WHERE id = 1"
            )
        ev = db.log.evidence("§6.5 Step 2")
    assert row is not None
    breached = row["daily_pnl_pct"] <= -row["daily_loss_limit_pct"] or (
        row["consecutive_losses"] >= row["max_consecutive_losses"]
    )
    why = "new UTC day" if new_day else ("reset requested (--reset-daily)" if reset_daily else "same day: not reset")
    if breached:
        return failed(
            "limits still breached",
            "Reset",
            f"{why}; the daily limits are still breached: resuming would trade past them",
            ev,
        )
    return passed(
        "reset" if new_day or reset_daily else "within limits",
        "Reset",
        f"{why}; daily P&L {row['daily_pnl_pct']}, losses {row['consecutive_losses']}",
        ev,
    )


def _deactivate(t: Target, record: dict[str, Any], operator: str) -> CheckResult:
    with connect(t.db, t.redactor, read_only=False) as db:
        if not kill_switch_state.try_lock(db):
            return failed("lock busy", "FALSE", "a kill-switch verification holds the lock: not deactivated")
        try:
            state = kill_switch_state.read_state(db)
            released = db.one(
                "SELECT created_at FROM circuit_breaker_events WHERE event_type = %s AND created_at > %s"
                " ORDER BY created_at LIMIT 1",
                (kill_switch_state.RELEASED_EVENT, record["opened_at"]),
            )
            if not state.active or released:
                when = released["created_at"] if released else "unknown time"
                return failed(
                    state.describe(),
                    "deactivated only at resume",
                    f"the kill switch was released before "
                    f"the resume (at {when}): the incident was not held until the checks passed",
                    db.log.evidence(),
                )
            # compare-and-set: only the hold the capture saw (or made) is released; one somebody put in place since
            # (another reason, or any change while the resume checks) is theirs and is never released here
            captured = (record.get("actions") or {}).get("6.1.1") or {}
            if "kill_switch_reason" in captured and captured["kill_switch_reason"] != state.reason:
                return failed(
                    state.describe(),
                    f"the hold of the capture (reason {captured['kill_switch_reason']})",
                    f"not deactivated: the kill switch is now held for another reason than at the incident's "
                    f"capture ({kill_switch_state.holder(db)}); deactivate it with "
                    "`opscheck kill-switch deactivate --allow-mutations` once that hold is resolved too",
                    db.log.evidence(),
                )
            hold = kill_switch_state.current_hold(db, state.reason)
            at = None
            if hold is not None:
                at, _ = kill_switch_state.release_hold(
                    db, hold, operator=operator, via="opscheck incident resume", why=f"RESUME {record['incident_id']}"
                )
            if at is None:
                who = kill_switch_state.holder(db)
                return failed(
                    who,
                    "deactivated only at resume",
                    f"not deactivated: the kill switch changed while the resume checked it ({who}); deactivate it "
                    "with `opscheck kill-switch deactivate --allow-mutations` once that hold is resolved too",
                    db.log.evidence(),
                )
            # The bot trades again: an ALLOW after the deactivation. A decision the bot was already making while the
            # UPDATE committed may still say HALT, so wait (briefly) for an ALLOW; else report the latest decision.
            first = None
            deadline = time.monotonic() + ALLOW_WAIT_S
            while time.monotonic() < deadline:
                first = db.one(
                    "SELECT policy_decision, reason_code FROM policy_decision_audit WHERE timestamp_utc > %s"
                    " ORDER BY (policy_decision = 'ALLOW') DESC, timestamp_utc DESC, id DESC LIMIT 1",
                    (at,),
                )
                if first is not None and first["policy_decision"] == "ALLOW":
                    break
                time.sleep(0.02)
            after = kill_switch_state.read_state(db)
            ev = db.log.evidence("§6.5 Step 3")
        finally:
            kill_switch_state.unlock(db)
    if after.active:
        return failed(after.describe(), "FALSE", "the kill switch is still active after deactivation", ev)
    if first is None or first["policy_decision"] != "ALLOW":
        got = f"{first['policy_decision']}/{first['reason_code']}" if first else "no decision"
        _reactivate(t, record, operator)
        return failed(
            got,
            "FALSE, bot ALLOWs",
            f"after deactivation the bot decided {got}, not ALLOW: kill switch activated again",
            ev,
        )
    return passed("FALSE", "FALSE", "kill switch deactivated at resume; the bot's next decision is ALLOW", ev)


def _reactivate(t: Target, record: dict[str, Any], operator: str) -> None:
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            if kill_switch_state.activate_if_inactive(db, f"INCIDENT {record['incident_id']}") is None:
                return  # somebody activated it again already: theirs, kept as it is
            kill_switch_state.record_event(
                db, activated=True, reason="resume failed", operator=operator, via="opscheck incident resume"
            )
    except DbError:
        pass


def resume(t: Target, incident_id: str, *, operator: str, reset_daily: bool = False) -> Resume:
    """§6.4 then §6.5; raises incident.IncidentError when the record cannot be read."""
    record = incident.load(t, incident_id)
    res = Resume(incident_id)
    if record.get("resumed_at"):
        res.stopped = f"already resumed at {record['resumed_at']}"
        return res
    checks: dict[str, Callable[[], CheckResult]] = {
        "6.4.1": lambda: _documented(record.get("root_cause"), "root cause"),
        "6.4.2": lambda: _documented(record.get("fix"), "fix (or why none applies)"),
        "6.4.4": lambda: logs.health_green(t),
        "6.4.5": lambda: logs.budget_loaded(t),
        "6.4.6": lambda: drift.drift_within_tolerance(t),
        "6.4.7": lambda: exchange.valr_reachable(t),
        "6.4.8": lambda: _pnl(t, reset_daily),
        "6.4.3": lambda: _deactivate(t, record, operator),
    }
    for item in ORDER:
        try:
            result = checks[item]()
        except DbError as exc:
            result = failed(
                "error",
                CHECKS[item],
                f"database error: {exc}",
                cause=givens.cause_in(str(exc), t.db.user or "the bot's role"),
            )
        res.results[item] = result
        res.at[item] = datetime.now(UTC).isoformat(timespec="seconds")
        if not result.ok:
            res.stopped = f"{item} {CHECKS[item]} {result.status.word}: {result.summary()}"
            res.stopped_at = item
            break
    summary = {
        k: {"status": "passed" if r.ok else "failed", "detail": r.summary(), "at": res.at[k]}
        for k, r in res.results.items()
    }
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            if not res.stopped:
                # §6.5 Step 4 writes a 'RESUME' row with a text id into policy_decision_audit; the bot's CHECKs
                # (ALLOW/NEUTRAL/HALT, uuid ids) reject it, so the resume is recorded as an operator action.
                problem = kill_switch_state.record_operator(
                    db,
                    RESUME_ACTION,
                    operator,
                    uuid.uuid4(),
                    {"incident_id": incident_id, "root_cause": (record.get("root_cause") or "")[:200]},
                )
                if problem:
                    raise DbError(problem)
                res.resumed = True
            db.rows(
                "UPDATE ops_incidents SET resume_checks = %s, resumed_by = %s, resumed_at = %s WHERE incident_id = %s",
                (
                    Jsonb(summary),
                    operator if res.resumed else None,
                    datetime.now(UTC) if res.resumed else None,
                    incident_id,
                ),
            )
            ev = db.log.evidence("§6.5 Step 4 (resume recorded) and the record")
    except DbError as exc:
        res.stopped = res.stopped or f"resume not recorded: {exc}"
        res.resumed = False
        ev = Evidence("error", t.redactor.text(str(exc)))
    for r in res.results.values():
        r.evidence.append(ev)
        r.evidence.append(Evidence("§6.4 pre-resume verification", res.table(), "text/markdown"))
    return res
