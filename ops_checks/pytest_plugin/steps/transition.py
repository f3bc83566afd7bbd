"""Steps for runbook §3 (DRY_RUN → LIVE): a drill on a disposable sandbox; read-only audit-trail checks on live."""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, when

from ops_checks import transition_audit, transition_drill
from ops_checks.config import Target
from ops_checks.pytest_plugin.disposables import drill_fixture
from ops_checks.pytest_plugin.plugin import runbook_item
from ops_checks.pytest_plugin.steps.common import require
from ops_checks.result import CheckResult, failed
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import apply as apply_faults


@drill_fixture("transition_drills", lambda item: item.startswith("3."))
def _transition_drill(config: pytest.Config, sandbox: Sandbox, drill_sb: Sandbox) -> transition_drill.Drill:
    """One disposable sandbox on the session's Postgres server (env file written, broken like the session's):
    pre-transition preflight, gate, transition to LIVE and back. The session's sandbox stays DRY_RUN."""
    transition_drill.write_env_file(drill_sb, drill_sb.workdir / transition_drill.ENV_FILE)
    apply_faults(drill_sb, list(config.getoption("--sandbox-fault")))
    return transition_drill.run(drill_sb, sandbox.workdir / "transition")


@given("the pre-transition requirements are met")
def requirements_met(target: Target, transition_drills: transition_drill.Drill | None) -> None:
    if transition_drills is not None and transition_drills.to_live is not None:
        require(
            target, transition_drills.to_live.refused and f"transition refused: {transition_drills.to_live.refused}"
        )


@given("the transition reached this row")
def row_reached(
    target: Target, transition_drills: transition_drill.Drill | None, request: pytest.FixtureRequest
) -> None:
    if transition_drills is not None:
        require(target, transition_drills.not_reached(runbook_item(request.node) or ""))


@when(parsers.parse("pre-transition requirement {item} is checked"), target_fixture="result")
def requirement(target: Target, transition_drills: transition_drill.Drill | None, item: str) -> CheckResult:
    if transition_drills is None:
        return transition_audit.check(target, item)
    return transition_drills.gate.get(item) or failed("not run", item, "the gate did not evaluate this requirement")


@when(parsers.parse("checklist row {item} is read from the transition record"), target_fixture="result")
def checklist_row(target: Target, transition_drills: transition_drill.Drill | None, item: str) -> CheckResult:
    if transition_drills is None:
        return transition_audit.check(target, item)
    return transition_drills.outcome(item)
