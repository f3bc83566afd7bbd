"""Runbook §5.7 on the sandbox: after the §5 drill (L1–L4), the checklist is filled as an emergency would fill it.

The operator starts the database again for the investigation ("docker start postgres"), confirms rows 1 and 2,
opens the incident (``incident.capture``: record, positions review read from VALR, stakeholders alerted), logs the
emergency's kill-switch event in circuit_breaker_events, and documents the root cause (on the drill: its stated
cause). Each row is then verified from what the environment shows
(``ops_checks.checks.s5_emergency.emergency_checklist``).
The operator's text comes from the sandbox env (EMERGENCY_CAUSE, EMERGENCY_ROOT_CAUSE) with defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_checks.access import kill_switch_state
from ops_checks.access.db import DbError, connect
from ops_checks.checks.s5_emergency import emergency_checklist as ec
from ops_checks.core.result import Cause, CheckResult, Evidence
from ops_checks.drills import base as drill_base
from ops_checks.drills import emergency_drill
from ops_checks.procedures import incident
from ops_checks.sandbox.environment import Sandbox

OPERATOR = "sandbox-operator"
DEFAULT_CAUSE = "emergency shutdown drill: L1–L4 rehearsed on a disposable sandbox (no real anomaly)"
ERRORS = (*drill_base.DRILL_ERRORS, incident.IncidentError)


def _log_event(sb: Sandbox, incident_id: str) -> dict[str, Any] | str:
    """The emergency's kill-switch activation in the audit trail (§7.3 lists these events): what was committed.
    The bot's circuit_breaker_events has no operator column: who did it goes to ``opscheck.ops_operator_actions``.
    No RETURNING: it needs SELECT on the table, which logging an event does not."""
    t = sb.target
    assert t is not None
    reason = f"EMERGENCY_L1 {incident_id}"
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            problem = kill_switch_state.record_event(
                db, activated=True, reason=reason, operator=OPERATOR, via="runbook §5.2 one-liner"
            )
    except DbError as exc:
        return f"not written: {exc}"
    if problem:
        return f"not written: {problem}"
    return {"event_type": kill_switch_state.ACTIVATED_EVENT, "trigger_reason": reason, "at": datetime.now(UTC)}


def _guarded(results: dict[str, CheckResult], item: str, step: Callable[[], CheckResult]) -> None:
    """A row filled and verified; an error leaves it "NOT done" (said in the procedure with the rest, at the end)."""
    results[item] = drill_base.guard(step, ERRORS, ec.ROWS[item], "NOT done: ")


def run(sb: Sandbox, drill: emergency_drill.Drill, out_root: Path) -> None:
    """Fills and verifies 5.7.1–5.7.6 on the drill's sandbox; results go into ``drill.results``."""
    t, valr, hooks = sb.target, sb.valr, sb.hooks
    assert t is not None and valr is not None and hooks is not None
    cause = sb.env.get("EMERGENCY_CAUSE", DEFAULT_CAUSE)
    root_cause = sb.env.get("EMERGENCY_ROOT_CAUSE", cause)
    results: dict[str, CheckResult] = {}
    activated, stopped = drill.marks.get("L1"), drill.marks.get("L2")
    emergency_drill.start_database(sb)
    drill.say("5.7: database started for the investigation")
    _guarded(results, "5.7.1", lambda: ec.kill_switch_row(t, activated))
    calls = [r.at for r in list(valr.requests)]
    _guarded(results, "5.7.2", lambda: ec.services_row(t, stopped, t.bot_api_url, calls))
    cap: incident.Capture | None = None
    try:
        cap = incident.capture(
            t, out_root=out_root, operator=OPERATOR, detection="emergency shutdown (runbook §5)", trigger=cause
        )
        drill.say(f"5.7: incident {cap.incident_id} opened (positions review, stakeholders alerted)")
        event: dict[str, Any] | str = _log_event(sb, cap.incident_id)
        incident.document(t, cap.incident_id, root_cause=root_cause, fix="", operator=OPERATOR)
        drill.say("5.7: root cause documented")
    except incident.IncidentError as exc:
        event = f"no incident: {exc}"
        drill.say(f"5.7: {exc}")
    iid = cap.incident_id if cap else None
    actions = cap.actions if cap else {}
    _guarded(results, "5.7.3", lambda: ec.positions_row(cap.dir if cap else None, actions.get("6.1.6")))
    _guarded(results, "5.7.4", lambda: ec.incident_row(t, iid, activated, event))
    _guarded(results, "5.7.5", lambda: ec.notified_row(iid, list(hooks.messages), actions.get("6.1.5")))
    _guarded(results, "5.7.6", lambda: ec.root_cause_row(t, iid))
    if cap is None:  # rows 3-6 all rest on the incident the capture failed to open: one cause, not four
        no_incident = Cause(
            "incident_capture",
            "opscheck incident capture",
            f"the emergency's incident could not be opened: {event}",
            "fix what the capture reports, then run `opscheck incident capture --operator NAME --detection TEXT`",
        )
        for item in ("5.7.3", "5.7.4", "5.7.5", "5.7.6"):
            if not results[item].ok and results[item].cause is None:
                results[item].cause = no_incident
    filled = Evidence("§5.7 emergency shutdown checklist", ec.table(results), "text/markdown")
    for item, result in results.items():
        drill.record(item, result)
    procedure = Evidence("emergency drill", "\n".join(drill.procedure))
    for result in results.values():
        result.evidence.extend([filled, procedure])
