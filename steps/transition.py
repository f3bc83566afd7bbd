"""Steps for runbook §3 (DRY_RUN → LIVE): a drill on a disposable sandbox; read-only audit-trail checks on live."""

from __future__ import annotations

from pytest_bdd import given

from ops_checks.access.config import Target
from ops_checks.checks.s3_transition import transition_audit
from ops_checks.drills import transition_drill
from ops_checks.pytest_plugin.judging import drill_record_steps, require


@given("the pre-transition requirements are met")
def requirements_met(target: Target, transition_drills: transition_drill.Drill | None) -> None:
    require(target, transition_drill.refusal(transition_drills))


drill_record_steps(
    "transition_drills",
    "the transition reached this row",
    ("pre-transition requirement {item} is checked", "checklist row {item} is read from the transition record"),
    transition_audit.check,
)
