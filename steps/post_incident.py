"""Steps for runbook §6 (post-incident): a drill on a disposable sandbox; read-only record checks on live."""

from __future__ import annotations

import pytest

from ops_checks.access.config import Target
from ops_checks.checks.s6_post_incident import incident_audit
from ops_checks.core.result import CheckResult
from ops_checks.drills import incident_drill
from ops_checks.pytest_plugin.disposables import drill_fixture
from ops_checks.pytest_plugin.judging import drill_record_steps
from ops_checks.pytest_plugin.plugin import CURRENT, left_active_by
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import apply as apply_faults


@drill_fixture("incident_drills", lambda item: item.startswith("6."))
def _incident_drill(config: pytest.Config, sandbox: Sandbox, drill_sb: Sandbox) -> incident_drill.Drill:
    """One disposable sandbox on the session's Postgres server, broken like the session's: incident, capture,
    report, resume. The session's sandbox is not touched."""
    apply_faults(drill_sb, list(config.getoption("--sandbox-fault")))
    return incident_drill.run(drill_sb, sandbox.workdir / "incident")


def _live(target: Target, item: str) -> CheckResult:
    """Live: the latest incident record; a kill switch this run's §4.3 verification left ACTIVE is that step's."""
    node = CURRENT.get()
    return incident_audit.check(target, item, left_active_by(node.config) if node is not None else ())


drill_record_steps(
    "incident_drills",
    "the resume reached this check",
    (
        "immediate action {item} is read from the incident record",
        "pre-resume check {item} is read from the incident record",
    ),
    _live,
)
