"""Steps for runbook §5 (emergency shutdown): drills on a disposable sandbox, read-only readiness on live."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_bdd import given, parsers, when

from ops_checks.access.config import Target
from ops_checks.checks.s5_emergency import emergency, emergency_checklist
from ops_checks.core.result import CheckResult
from ops_checks.drills import base as drill_base
from ops_checks.drills import emergency_checklist_drill, emergency_drill
from ops_checks.pytest_plugin import plugin
from ops_checks.pytest_plugin.disposables import drill_fixture
from ops_checks.pytest_plugin.judging import require
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import apply as apply_faults


@drill_fixture("emergency_drills", lambda item: item.startswith("5."))
def _emergency_drill(config: pytest.Config, sandbox: Sandbox, drill_sb: Sandbox) -> emergency_drill.Drill:
    """One disposable sandbox on the session's Postgres server, broken like the session's, drilled, stopped."""
    path = plugin.runbook_dir(config)
    apply_faults(drill_sb, list(config.getoption("--sandbox-fault")))
    drill_run = emergency_drill.run(drill_sb, path if path.is_dir() else None, sandbox.workdir / "emergency_audit")
    emergency_checklist_drill.run(drill_sb, drill_run, sandbox.workdir / "emergency_incident")  # §5.7 after L1–L4
    return drill_run


@when("the L1 kill-switch one-liner is exercised", target_fixture="result")
def l1(target: Target, emergency_drills: emergency_drill.Drill | None, runbook_dir: Path | None) -> CheckResult:
    return drill_base.outcome("5.2.1", emergency_drills, lambda: emergency.l1_ready(target, runbook_dir))


@when("the trading bot is stopped", target_fixture="result")
def l2(target: Target, emergency_drills: emergency_drill.Drill | None) -> CheckResult:
    return drill_base.outcome("5.3.1", emergency_drills, lambda: emergency.l2_ready(target))


@when("all services are stopped", target_fixture="result")
def l3(target: Target, emergency_drills: emergency_drill.Drill | None) -> CheckResult:
    return drill_base.outcome("5.4.1", emergency_drills, lambda: emergency.l3_ready(target))


@when("a security-breach shutdown is rehearsed", target_fixture="result")
def l4(target: Target, emergency_drills: emergency_drill.Drill | None, runbook_dir: Path | None) -> CheckResult:
    return drill_base.outcome("5.5.1", emergency_drills, lambda: emergency.l4_ready(target, runbook_dir))


@given(parsers.parse("emergency level {item} was carried out"))
def level_carried_out(target: Target, emergency_drills: emergency_drill.Drill | None, item: str) -> None:
    """A checklist row resting on a level's drill: when the level did not pass, the row is not verified and rests
    on the level's item (``blocked_by``), which owns the failure (sandbox)."""
    if emergency_drills is not None:
        require(target, emergency_drills.requirement(item))


@when(parsers.parse("emergency checklist row {item} is verified"), target_fixture="result")
def checklist_row(
    target: Target, emergency_drills: emergency_drill.Drill | None, runbook_dir: Path | None, item: str
) -> CheckResult:
    return drill_base.outcome(item, emergency_drills, lambda: emergency_checklist.ready(target, item, runbook_dir))
