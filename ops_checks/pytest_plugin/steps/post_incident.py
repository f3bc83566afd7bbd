"""Steps for runbook §6 (post-incident): a drill on a disposable sandbox; read-only record checks on live."""

from __future__ import annotations

import pytest
from pytest_bdd import given, parsers, when

from ops_checks import incident_audit, incident_drill
from ops_checks.config import Target
from ops_checks.pytest_plugin.disposables import drill_fixture
from ops_checks.pytest_plugin.plugin import runbook_item
from ops_checks.pytest_plugin.steps.common import require
from ops_checks.result import CheckResult
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import apply as apply_faults


@drill_fixture("incident_drills", lambda item: item.startswith("6."))
def _incident_drill(config: pytest.Config, sandbox: Sandbox, drill_sb: Sandbox) -> incident_drill.Drill:
    """One disposable sandbox on the session's Postgres server, broken like the session's: incident, capture,
    report, resume. The session's sandbox is not touched."""
    apply_faults(drill_sb, list(config.getoption("--sandbox-fault")))
    return incident_drill.run(drill_sb, sandbox.workdir / "incident")


@given("the resume reached this check")
def resume_reached(
    target: Target, incident_drills: incident_drill.Drill | None, request: pytest.FixtureRequest
) -> None:
    if incident_drills is not None:
        require(target, incident_drills.not_reached(runbook_item(request.node) or ""))


@when(parsers.parse("immediate action {item} is read from the incident record"), target_fixture="result")
def action(target: Target, incident_drills: incident_drill.Drill | None, item: str) -> CheckResult:
    if incident_drills is None:
        return incident_audit.check(target, item)
    return incident_drills.action(item)


@when(parsers.parse("pre-resume check {item} is read from the incident record"), target_fixture="result")
def pre_resume(target: Target, incident_drills: incident_drill.Drill | None, item: str) -> CheckResult:
    if incident_drills is None:
        return incident_audit.check(target, item)
    return incident_drills.check(item)
