"""Steps for the Incident Response SOP that read a drill (sop.2.4, 4.2, 7.1, 8.3 on a disposable sandbox; the backup
restore drill of the weekly prevention checklist)."""

from __future__ import annotations

from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.core.result import CheckResult
from ops_checks.drills import restore_drill
from ops_checks.drills import sop_drills as drills


@when("the market-data feed drops and comes back", target_fixture="result")
def feed_drop(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drills.outcome(target, sop_drills, "sop.2.4")


@when("the daily P&L is driven past the loss limit", target_fixture="result")
def loss_drill(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drills.outcome(target, sop_drills, "sop.4.2")


@when("the kill switch is activated with orders resting on the exchange", target_fixture="result")
def kill_switch_orders(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drills.outcome(target, sop_drills, "sop.7.1")


@when("the market-data feed stalls", target_fixture="result")
def stall_drill(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drills.outcome(target, sop_drills, "sop.8.3")


@when("the audit tables are backed up and restored into a disposable database", target_fixture="result")
def backup_restore(target: Target, restore_site: restore_drill.Site) -> CheckResult:
    return restore_drill.check(target, restore_site.server, restore_site.workdir)
