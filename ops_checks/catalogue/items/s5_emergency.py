"""Live Trading Runbook §5 Emergency Shutdown: levels L1–L4 (5.2.1–5.5.1) and the checklist (5.7.1–5.7.6)."""

from __future__ import annotations

from functools import partial

from ops_checks.catalogue.model import DATABASE, KILL_SWITCH, SAFETY_GATE, Drill, Given, Item

S52 = "5.2 L1: Kill Switch Activation"
S53 = "5.3 L2: Stop Trading Services"
S54 = "5.4 L3: Full Service Shutdown"
S55 = "5.5 L4: Full Shutdown with API Revocation"
S57 = "5.7 Emergency Shutdown Checklist"

# Drills: on the sandbox the When step reads the item from the emergency drill on a disposable sandbox
# (emergency_drill.run, then emergency_checklist_drill.run for §5.7); on live it calls the read-only readiness check
# named here (runbook_dir: the runbooks' directory, or None).
EMERGENCY = Drill("emergency_drills")
_item = partial(Item, category=SAFETY_GATE, drill=EMERGENCY)


def _level_carried_out(level: str) -> Given:
    """A checklist row resting on a level's drill: when the level did not pass, the row is not verified and rests
    on the level's item (``blocked_by``), which owns the failure (sandbox)."""
    return Given(
        "ops_checks.drills.base:requirement",
        (level,),
        (f"drill={EMERGENCY.fixture}",),
        text=f"emergency level {level} was carried out",
    )


_row = partial(
    _item, section=S57, check="ops_checks.checks.s5_emergency.emergency_checklist:ready", check_needs=("runbook_dir",)
)

ITEMS: tuple[Item, ...] = (
    _item(
        "5.2.1",
        "L1 one-liner halts trading",
        S52,
        check="ops_checks.checks.s5_emergency.emergency:l1_ready",
        check_needs=("runbook_dir",),
        preconditions=(DATABASE,),
        topics=(KILL_SWITCH,),
        when="the L1 kill-switch one-liner is exercised",
    ),
    _item(
        "5.3.1",
        "L2 bot stop leaves no exchange traffic",
        S53,
        check="ops_checks.checks.s5_emergency.emergency:l2_ready",
        when="the trading bot is stopped",
    ),
    _item(
        "5.4.1",
        "L3 full stop",
        S54,
        check="ops_checks.checks.s5_emergency.emergency:l3_ready",
        when="all services are stopped",
    ),
    _item(
        "5.5.1",
        "L4 revocation checklist and audit dump",
        S55,
        check="ops_checks.checks.s5_emergency.emergency:l4_ready",
        check_needs=("runbook_dir",),
        preconditions=(DATABASE,),
        when="a security-breach shutdown is rehearsed",
    ),
    _row(
        "5.7.1",
        "Kill switch activated",
        check_args=("5.7.1",),
        preconditions=(DATABASE, _level_carried_out("5.2.1")),
        when="emergency checklist row 5.7.1 is verified",
    ),
    _row(
        "5.7.2",
        "Trading services stopped",
        check_args=("5.7.2",),
        preconditions=(_level_carried_out("5.3.1"),),
        when="emergency checklist row 5.7.2 is verified",
    ),
    _row("5.7.3", "Open positions reviewed", check_args=("5.7.3",), when="emergency checklist row 5.7.3 is verified"),
    _row(
        "5.7.4",
        "Incident logged",
        check_args=("5.7.4",),
        preconditions=(DATABASE,),
        when="emergency checklist row 5.7.4 is verified",
    ),
    _row("5.7.5", "Stakeholders notified", check_args=("5.7.5",), when="emergency checklist row 5.7.5 is verified"),
    _row(
        "5.7.6",
        "Root cause identified",
        check_args=("5.7.6",),
        preconditions=(DATABASE,),
        when="emergency checklist row 5.7.6 is verified",
    ),
)
