"""Live Trading Runbook §3 DRY_RUN to LIVE Transition: §3.1's requirements (3.1.1–3.1.6) and §3.3's checklist
rows (3.3.1–3.3.10, DESIGN.md §4's row rule)."""

from __future__ import annotations

from functools import partial

from ops_checks.catalogue.model import DATABASE, SAFETY_GATE, Drill, Given, Item, drill_reached

S31 = "3.1 Pre-Transition Requirements"
S33 = "3.3 Transition Checklist"

# A drill: on the sandbox the When step reads the item from the §3 drill (ops_checks.drills.transition_drill:run,
# on a disposable sandbox: its gate for 3.1.N, its transition record for 3.3.N); on live it calls the read-only check
# named here, the audit trail's record of the item.
TRANSITION = Drill("transition_drills")
_item = partial(
    Item,
    category=SAFETY_GATE,
    preconditions=(DATABASE,),
    check="ops_checks.checks.s3_transition.transition_audit:check",
    drill=TRANSITION,
)
#: §3.3's Background: the rows rest on the drill's gate and on how far its transition got
_ROW_GIVENS = (
    Given(
        "ops_checks.drills.transition_drill:refusal",
        needs=(f"drill={TRANSITION.fixture}",),
        text="the pre-transition requirements are met",
    ),
    drill_reached(TRANSITION.fixture, "the transition reached this row"),
    DATABASE,
)

ITEMS: tuple[Item, ...] = (
    _item(
        "3.1.1",
        "24-hour DRY_RUN period completed",
        S31,
        check_args=("3.1.1",),
        when="pre-transition requirement 3.1.1 is checked",
    ),
    _item(
        "3.1.2",
        "All §1 preconditions verified",
        S31,
        check_args=("3.1.2",),
        when="pre-transition requirement 3.1.2 is checked",
    ),
    _item(
        "3.1.3",
        "All §2 environment variables verified",
        S31,
        check_args=("3.1.3",),
        when="pre-transition requirement 3.1.3 is checked",
    ),
    _item(
        "3.1.4",
        "Kill switch tested per §4",
        S31,
        check_args=("3.1.4",),
        when="pre-transition requirement 3.1.4 is checked",
    ),
    _item(
        "3.1.5",
        "Clock drift verified per §8",
        S31,
        check_args=("3.1.5",),
        when="pre-transition requirement 3.1.5 is checked",
    ),
    _item(
        "3.1.6",
        "Two authorised operators present",
        S31,
        check_args=("3.1.6",),
        when="pre-transition requirement 3.1.6 is checked",
    ),
    _item(
        "3.3.1",
        "Audit record created",
        S33,
        check_args=("3.3.1",),
        preconditions=_ROW_GIVENS,
        when="checklist row 3.3.1 is read from the transition record",
    ),
    _item(
        "3.3.2",
        "Services stopped",
        S33,
        check_args=("3.3.2",),
        preconditions=_ROW_GIVENS,
        when="checklist row 3.3.2 is read from the transition record",
    ),
    _item(
        "3.3.3",
        "Backup created",
        S33,
        check_args=("3.3.3",),
        preconditions=_ROW_GIVENS,
        when="checklist row 3.3.3 is read from the transition record",
    ),
    _item(
        "3.3.4",
        "Environment updated",
        S33,
        check_args=("3.3.4",),
        preconditions=_ROW_GIVENS,
        when="checklist row 3.3.4 is read from the transition record",
    ),
    _item(
        "3.3.5",
        "Configuration verified",
        S33,
        check_args=("3.3.5",),
        preconditions=_ROW_GIVENS,
        when="checklist row 3.3.5 is read from the transition record",
    ),
    _item(
        "3.3.6",
        "Daily P&L reset",
        S33,
        check_args=("3.3.6",),
        preconditions=_ROW_GIVENS,
        when="checklist row 3.3.6 is read from the transition record",
    ),
    _item(
        "3.3.7",
        "Services started",
        S33,
        check_args=("3.3.7",),
        preconditions=_ROW_GIVENS,
        when="checklist row 3.3.7 is read from the transition record",
    ),
    _item(
        "3.3.8",
        "LIVE mode verified",
        S33,
        check_args=("3.3.8",),
        preconditions=_ROW_GIVENS,
        when="checklist row 3.3.8 is read from the transition record",
    ),
    _item(
        "3.3.9",
        "Test signal successful",
        S33,
        check_args=("3.3.9",),
        preconditions=_ROW_GIVENS,
        when="checklist row 3.3.9 is read from the transition record",
    ),
    _item(
        "3.3.10",
        "Transition complete",
        S33,
        check_args=("3.3.10",),
        preconditions=_ROW_GIVENS,
        when="checklist row 3.3.10 is read from the transition record",
    ),
)
