"""Steps for runbook §5 (emergency shutdown): drills on a disposable sandbox, read-only readiness on live."""

from __future__ import annotations

from pathlib import Path

from pytest_bdd import given, parsers, when

from ops_checks.access.config import Target
from ops_checks.core.result import CheckResult
from ops_checks.drills import base as drill_base
from ops_checks.drills import emergency_drill
from ops_checks.pytest_plugin.judging import require


@when("the L1 kill-switch one-liner is exercised", target_fixture="result")
def l1(target: Target, emergency_drills: emergency_drill.Drill | None, runbook_dir: Path | None) -> CheckResult:
    return drill_base.item_result(target, emergency_drills, "5.2.1", runbook_dir=runbook_dir)


@when("the trading bot is stopped", target_fixture="result")
def l2(target: Target, emergency_drills: emergency_drill.Drill | None) -> CheckResult:
    return drill_base.item_result(target, emergency_drills, "5.3.1")


@when("all services are stopped", target_fixture="result")
def l3(target: Target, emergency_drills: emergency_drill.Drill | None) -> CheckResult:
    return drill_base.item_result(target, emergency_drills, "5.4.1")


@when("a security-breach shutdown is rehearsed", target_fixture="result")
def l4(target: Target, emergency_drills: emergency_drill.Drill | None, runbook_dir: Path | None) -> CheckResult:
    return drill_base.item_result(target, emergency_drills, "5.5.1", runbook_dir=runbook_dir)


@given(parsers.parse("emergency level {item} was carried out"))
def level_carried_out(target: Target, emergency_drills: emergency_drill.Drill | None, item: str) -> None:
    """A checklist row resting on a level's drill: when the level did not pass, the row is not verified and rests
    on the level's item (``blocked_by``), which owns the failure (sandbox)."""
    require(target, drill_base.requirement(item, emergency_drills))


@when(parsers.parse("emergency checklist row {item} is verified"), target_fixture="result")
def checklist_row(
    target: Target, emergency_drills: emergency_drill.Drill | None, runbook_dir: Path | None, item: str
) -> CheckResult:
    return drill_base.item_result(target, emergency_drills, item, runbook_dir=runbook_dir)
