"""Runbook §3 on live: read-only checks of the audit trail of the last DRY_RUN → LIVE transition.

The transition leaves two rows in policy_decision_audit: TRANSITION/DRY_RUN_TO_LIVE (operator, witness, the §3.1
requirements as the gate found them) and TRANSITION_COMPLETE/LIVE_MODE_ACTIVE (first_trade_verified, the order,
the §3.3 checklist of steps 1–9 with who and when). A ROLLBACK row ends a failed one.

What passes:
- The bot runs LIVE: the latest TRANSITION_COMPLETE must come after the latest ROLLBACK, belong to a
  TRANSITION row of the same transition id, name two different people, verify the first trade, and record the
  item's step (3.3.N) or requirement (3.1.N) as passed/met. A LIVE bot without such a trail fails every item.
- The bot runs DRY_RUN (or there was never a transition): there is no LIVE session to audit; the items pass and
  say what the trail holds (nothing, or a transition that was rolled back / returned to DRY_RUN).
- The bot's mode cannot be read: the items fail (an unknown mode is not a safe mode).
"""

from __future__ import annotations

from typing import Any

from ops_checks.config import Target
from ops_checks.db import DbError, connect
from ops_checks.http import HttpError, Recorder, json_body, request
from ops_checks.result import CheckResult, Evidence, failed, passed
from ops_checks.transition_gate import same_person

_TRAIL = """
SELECT correlation_id, timestamp_utc, policy_decision, reason_code, context_snapshot
FROM policy_decision_audit
WHERE policy_decision IN ('TRANSITION', 'TRANSITION_COMPLETE', 'ROLLBACK')
ORDER BY timestamp_utc DESC, id DESC LIMIT 50"""


def bot_mode(t: Target) -> tuple[str | None, Evidence]:
    rec = Recorder(t.redactor)
    try:
        answer = json_body(request("GET", t.bot_api_url + t.bot_health_path, recorder=rec, timeout=5))
    except HttpError:
        return None, Evidence("HTTP", rec.render())
    mode = answer.get("execution_mode") if isinstance(answer, dict) else None
    return (str(mode) if mode else None), Evidence("HTTP", rec.render())


def _snap(row: dict[str, Any]) -> dict[str, Any]:
    snap = row.get("context_snapshot")
    return snap if isinstance(snap, dict) else {}


def check(t: Target, item: str) -> CheckResult:
    """Item 3.1.N or 3.3.N on live, from the audit trail (read-only)."""
    try:
        with connect(t.db, t.redactor) as db:
            rows = db.rows(_TRAIL)
            ev = [db.log.evidence("transition audit trail")]
    except DbError as exc:
        return failed("unreadable", "transition audit trail", f"cannot read the audit trail: {exc}")
    mode, http = bot_mode(t)
    ev.append(http)
    completes = [r for r in rows if r["policy_decision"] == "TRANSITION_COMPLETE"]
    rollbacks = [r for r in rows if r["policy_decision"] == "ROLLBACK"]
    last = rows[0] if rows else None
    if mode is None:
        return failed("unknown", "bot mode known", "cannot read the bot's execution_mode from /health", *ev)
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
