"""Runbook §3 on live: read-only checks of the audit trail of the last DRY_RUN → LIVE transition.

The transition leaves two rows in ``opscheck.ops_operator_actions`` (action, detail with ``reason_code``,
operator, witness): TRANSITION/DRY_RUN_TO_LIVE (operator, witness, the §3.1
requirements as the gate found them) and TRANSITION_COMPLETE/LIVE_MODE_ACTIVE (first_trade_verified, the order,
the §3.3 checklist of steps 1–9 with who and when). A ROLLBACK row ends a failed one.

What passes:
- The bot runs LIVE: the latest TRANSITION_COMPLETE must come after the latest ROLLBACK, belong to a
  TRANSITION row of the same transition id, name two different people, verify the first trade, and record the
  item's step (3.3.N) or requirement (3.1.N) as passed/met. A LIVE bot without such a trail fails every item.
- The bot runs DRY_RUN (or there was never a transition): there is no LIVE session to audit; the items pass and
  say what the trail holds (nothing, or a transition that was rolled back / returned to DRY_RUN).
- The bot's mode cannot be read: the items fail (an unknown mode is not a safe mode).

The runbook writes these rows into ``policy_decision_audit`` (§3.2 Steps 1 and 10, §3.4 Step 5); the real bot's
schema refuses them (``policy_decision`` is ALLOW/NEUTRAL/HALT, ``correlation_id`` is a uuid), so the suite keeps
the trail in its own table. The mode comes from ``transition_gate.execution_mode`` (the real /health has none).
"""

from __future__ import annotations

from typing import Any

from ops_checks.access import suite_tables
from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.checks import causes
from ops_checks.checks.s3_transition.transition_gate import execution_mode, same_person
from ops_checks.core.result import CheckResult, failed, passed

TABLE = "ops_operator_actions"
_TRAIL = """
SELECT correlation_id, recorded_at AS timestamp_utc, action AS policy_decision,
       detail->>'reason_code' AS reason_code, detail AS context_snapshot
FROM opscheck.ops_operator_actions
WHERE action IN ('TRANSITION', 'TRANSITION_COMPLETE', 'ROLLBACK')
ORDER BY recorded_at DESC, id DESC LIMIT 50"""


def _snap(row: dict[str, Any]) -> dict[str, Any]:
    snap = row.get("context_snapshot")
    return snap if isinstance(snap, dict) else {}


def check(t: Target, item: str) -> CheckResult:
    """Item 3.1.N or 3.3.N on live, from the audit trail (read-only)."""
    try:
        with connect(t.db, t.redactor) as db:
            absent = suite_tables.missing(db, TABLE)
            rows = [] if absent else db.rows(_TRAIL)
            ev = [db.log.evidence("transition audit trail")]
    except DbError as exc:
        return causes.db_failed(t, "unreadable", "transition audit trail", exc, f"opscheck.{TABLE}")
    if absent:
        return suite_tables.not_installed(absent, "transition audit trail", *ev)
    reading = execution_mode(t)
    ev.extend(reading.evidence)
    mode = reading.value
    completes = [r for r in rows if r["policy_decision"] == "TRANSITION_COMPLETE"]
    rollbacks = [r for r in rows if r["policy_decision"] == "ROLLBACK"]
    last = rows[0] if rows else None
    if mode is None:
        return failed("unknown", "bot mode known", reading.reason, *ev)
    if mode != "LIVE":
        seen = f"last {last['policy_decision']}/{last['reason_code']} at {last['timestamp_utc']}" if last else "none"
        return passed(
            f"bot {mode}",
            "trail of the LIVE session",
            f"bot in {mode}: no LIVE session to audit (transition trail: {seen})",
            *ev,
        )
    if not completes or (rollbacks and rollbacks[0]["timestamp_utc"] > completes[0]["timestamp_utc"]):
        return failed(
            "no TRANSITION_COMPLETE",
            "complete trail",
            "the bot runs LIVE but no TRANSITION_COMPLETE follows the last ROLLBACK",
            *ev,
        )
    done = _snap(completes[0])
    tid = done.get("transition_id")
    starts = [
        r
        for r in rows
        if r["policy_decision"] == "TRANSITION"
        and r["reason_code"] == "DRY_RUN_TO_LIVE"
        and r["timestamp_utc"] <= completes[0]["timestamp_utc"]
    ]
    start = next((r for r in starts if tid and _snap(r).get("transition_id") == tid), starts[0] if starts else None)
    problems = []
    if start is None:
        problems.append("no TRANSITION/DRY_RUN_TO_LIVE row before TRANSITION_COMPLETE")
    op, wit = done.get("operator"), done.get("witness")
    if not op or not wit or same_person(op, wit):
        problems.append("operator and witness are not two different people")
    if done.get("first_trade_verified") is not True:
        problems.append("first_trade_verified is not true")
    if item.startswith("3.1."):
        req = (_snap(start).get("requirements") or {}) if start else {}
        if req.get(item) != "met":
            problems.append(f"requirement {item} is not recorded as met at the transition")
    elif item != "3.3.10":
        step = next((s for s in done.get("checklist") or [] if isinstance(s, dict) and s.get("item") == item), None)
        if step is None or step.get("status") not in ("passed", "not applicable"):
            problems.append(f"checklist row {item} is not recorded as passed")
    observed = f"{completes[0]['correlation_id']} (operator {op}, witness {wit})"
    if problems:
        return failed(observed, "complete, witnessed trail", "; ".join(problems), *ev)
    return passed(
        observed,
        "complete, witnessed trail",
        f"LIVE since {completes[0]['timestamp_utc']}: {item} recorded by {op}, witnessed by {wit}",
        *ev,
    )
