"""Steps for runbook §6 (post-incident): a drill on a disposable sandbox; read-only record checks on live."""

from __future__ import annotations

from ops_checks.access.config import Target
from ops_checks.checks.s6_post_incident import incident_audit
from ops_checks.core.result import CheckResult
from ops_checks.pytest_plugin.judging import drill_record_steps
from ops_checks.pytest_plugin.plugin import CURRENT, left_active_by


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
