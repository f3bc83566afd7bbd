"""Runbook §6 on live: read-only checks of the latest incident record (``ops_incidents``).

What passes:
- No ``opscheck.ops_incidents`` table (``opscheck init`` never ran): every item is not verified (the suite's schema
  cause), never an empty pass.
- No incident on record and the kill switch inactive: nothing to verify; the items pass and say so.
  With the kill switch ACTIVE and no record, every item fails: trading is halted by something nobody has
  documented. That is one problem, not fourteen: every item carries the same cause (``kill_switch_active``), and
  when this run's own kill-switch verification is what left the switch ACTIVE (``left_active_by``: the step that
  stopped it), the items rest on that step instead.
- The latest incident: 6.1.N passes when the capture recorded that action as done; 6.4.N passes when the resume
  recorded that check as passed. An incident not yet resumed fails the 6.4 items (trading must not resume yet).
"""

from __future__ import annotations

from ops_checks.access import kill_switch_state, suite_tables
from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.core.result import Cause, CheckResult, failed, passed

ACTIVE_WITHOUT_INCIDENT = "the kill switch is ACTIVE but no incident is on record"


def active_without_incident(state: kill_switch_state.KillSwitchState) -> Cause:
    """The one cause of every §6 item when the kill switch is ACTIVE and no incident documents why."""
    return kill_switch_state.active_cause(f"{ACTIVE_WITHOUT_INCIDENT}: {state.describe()}")


def check(t: Target, item: str, left_active_by: tuple[str, ...] = ()) -> CheckResult:
    """Item ``item`` (6.1.N or 6.4.N) from the latest incident record. ``left_active_by``: the items of this run
    that left the kill switch ACTIVE (the §4.3 verification's failed step), which an ACTIVE switch without an
    incident then rests on."""
    try:
        with connect(t.db, t.redactor) as db:
            problem = suite_tables.missing(db, "ops_incidents")
            if problem:
                return suite_tables.unverifiable(problem, "incident record", db.log.evidence("suite schema"))
            row = db.one(
                "SELECT incident_id, opened_at, actions, root_cause, fix, resume_checks, resumed_at"
                " FROM opscheck.ops_incidents ORDER BY opened_at DESC LIMIT 1"
            )
            state = kill_switch_state.read_state(db)
            ev = db.log.evidence("latest incident record")
    except DbError as exc:
        return failed("unreadable", "incident record", f"cannot read the incident record: {exc}")
    if row is None:
        if state.active:
            by = f" (left ACTIVE by {', '.join(left_active_by)})" if left_active_by else ""
            return failed(
                f"kill switch {state.describe()}",
                "incident documented",
                f"{ACTIVE_WITHOUT_INCIDENT}{by}",
                ev,
                cause=active_without_incident(state),
                blocked_by=left_active_by,
            )
        return passed("no incident", "incident record", "no incident on record; kill switch inactive", ev)
    iid = row["incident_id"]
    if item.startswith("6.1."):
        action = (row["actions"] or {}).get(item) or {}
        if action.get("status") != "passed":
            return failed(
                action.get("status", "missing"),
                "done",
                f"{iid}: {item} not recorded as done: {action.get('detail', 'no entry')}",
                ev,
            )
        return passed("done", "done", f"{iid}: {item} done by {action.get('by')} at {action.get('at')}", ev)
    if row["resumed_at"] is None:
        return failed(
            "open",
            "resumed",
            f"{iid} is open (not resumed): trading must stay halted",
            ev,
            cause=Cause(
                "incident_open",
                f"incident {iid}",
                f"incident {iid} is open (not resumed): trading must stay halted",
                f"finish §6.3–§6.5: opscheck incident document {iid} --operator NAME --root-cause TEXT --fix TEXT, "
                f"then opscheck incident resume {iid} --operator NAME --allow-mutations",
            ),
        )
    check_row = (row["resume_checks"] or {}).get(item) or {}
    if check_row.get("status") != "passed":
        return failed(check_row.get("status", "missing"), "passed", f"{iid}: {item} not recorded as passed", ev)
    return passed(
        "passed", "passed", f"{iid}: {item} passed at {check_row.get('at')} (resumed {row['resumed_at']})", ev
    )
