"""Live Trading Runbook §6 Post-Incident Checklist: §6.1's actions (6.1.1–6.1.6) and §6.4's checks (6.4.1–6.4.8)."""

from __future__ import annotations

from functools import partial

from ops_checks.catalogue.model import DATABASE, SAFETY_GATE, Drill, Item, drill_reached

S61 = "6.1 Immediate Post-Incident Actions"
S64 = "6.4 Pre-Resume Verification"

# A drill: on the sandbox the When step reads the item from the post-incident drill on a disposable sandbox
# (incident_drill.run: incident, capture, report, resume); on live it calls the read-only check named here, the
# incident record's entry for the item (left_active_by: the item of this run whose failure left the kill switch
# ACTIVE, which an ACTIVE switch without an incident then rests on).
INCIDENT = Drill("incident_drills")
_item = partial(
    Item,
    category=SAFETY_GATE,
    preconditions=(DATABASE,),
    check="ops_checks.checks.s6_post_incident.incident_audit:check",
    check_needs=("left_active_by=kill_switch_left_active_by",),
    drill=INCIDENT,
)
#: §6.4's Background: each check rests on how far the drill's resume got
_RESUME_GIVENS = (drill_reached(INCIDENT.fixture, "the resume reached this check"), DATABASE)

ITEMS: tuple[Item, ...] = (
    _item(
        "6.1.1",
        "Kill switch confirmed active",
        S61,
        check_args=("6.1.1",),
        when="immediate action 6.1.1 is read from the incident record",
    ),
    _item(
        "6.1.2",
        "Incident trigger documented",
        S61,
        check_args=("6.1.2",),
        when="immediate action 6.1.2 is read from the incident record",
    ),
    _item(
        "6.1.3",
        "System state captured",
        S61,
        check_args=("6.1.3",),
        when="immediate action 6.1.3 is read from the incident record",
    ),
    _item(
        "6.1.4",
        "Relevant logs exported",
        S61,
        check_args=("6.1.4",),
        when="immediate action 6.1.4 is read from the incident record",
    ),
    _item(
        "6.1.5",
        "Stakeholders notified",
        S61,
        check_args=("6.1.5",),
        when="immediate action 6.1.5 is read from the incident record",
    ),
    _item(
        "6.1.6",
        "Open positions assessed",
        S61,
        check_args=("6.1.6",),
        when="immediate action 6.1.6 is read from the incident record",
    ),
    _item(
        "6.4.1",
        "Root cause identified",
        S64,
        check_args=("6.4.1",),
        preconditions=_RESUME_GIVENS,
        when="pre-resume check 6.4.1 is read from the incident record",
    ),
    _item(
        "6.4.2",
        "Fix implemented (if applicable)",
        S64,
        check_args=("6.4.2",),
        preconditions=_RESUME_GIVENS,
        when="pre-resume check 6.4.2 is read from the incident record",
    ),
    _item(
        "6.4.3",
        "Kill switch deactivated only at resume",
        S64,
        check_args=("6.4.3",),
        preconditions=_RESUME_GIVENS,
        when="pre-resume check 6.4.3 is read from the incident record",
    ),
    _item(
        "6.4.4",
        "Health status GREEN",
        S64,
        check_args=("6.4.4",),
        preconditions=_RESUME_GIVENS,
        when="pre-resume check 6.4.4 is read from the incident record",
    ),
    _item(
        "6.4.5",
        "Budget integration loaded",
        S64,
        check_args=("6.4.5",),
        preconditions=_RESUME_GIVENS,
        when="pre-resume check 6.4.5 is read from the incident record",
    ),
    _item(
        "6.4.6",
        "Clock drift within tolerance",
        S64,
        check_args=("6.4.6",),
        preconditions=_RESUME_GIVENS,
        when="pre-resume check 6.4.6 is read from the incident record",
    ),
    _item(
        "6.4.7",
        "Exchange connectivity OK",
        S64,
        check_args=("6.4.7",),
        preconditions=_RESUME_GIVENS,
        when="pre-resume check 6.4.7 is read from the incident record",
    ),
    _item(
        "6.4.8",
        "Daily P&L reset",
        S64,
        check_args=("6.4.8",),
        preconditions=_RESUME_GIVENS,
        when="pre-resume check 6.4.8 is read from the incident record",
    ),
)
