"""Steps for the Incident Response SOP that read a drill (sop.2.4, 4.2, 7.1, 8.3 on a disposable sandbox; the backup
restore drill of the weekly prevention checklist)."""

from __future__ import annotations

import pytest
from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.checks.sop import feed, loss, orders
from ops_checks.core.result import CheckResult
from ops_checks.drills import base as drill_base
from ops_checks.drills import restore_drill
from ops_checks.drills import sop_drills as drills
from ops_checks.pytest_plugin.disposables import drill_fixture
from ops_checks.pytest_plugin.plugin import SELECTED
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import apply as apply_faults
from ops_checks.sandbox.faults import registry


@drill_fixture("sop_drills", lambda item: item in drills.DRILL_ITEMS)
def _sop_drill(config: pytest.Config, sandbox: Sandbox, drill_sb: Sandbox) -> drills.Drill:
    """One disposable sandbox on the session's server; only the faults aimed at drill items are applied to it."""
    names = [n for n in config.getoption("--sandbox-fault") if registry()[n].item in drills.DRILL_ITEMS]
    apply_faults(drill_sb, names)
    return drills.run(drill_sb, only=config.stash.get(SELECTED, None))


@when("the market-data feed drops and comes back", target_fixture="result")
def feed_drop(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    out_of_scope = feed.websocket_out_of_scope(target)  # no websocket declared: no drill result counts either
    return out_of_scope or drill_base.outcome("sop.2.4", sop_drills, lambda: feed.feed_down_blocks_entries(target))


@when("the daily P&L is driven past the loss limit", target_fixture="result")
def loss_drill(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drill_base.outcome("sop.4.2", sop_drills, lambda: loss.breach_settings_sane(target))


@when("the kill switch is activated with orders resting on the exchange", target_fixture="result")
def kill_switch_orders(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drill_base.outcome("sop.7.1", sop_drills, lambda: orders.kill_switch_leaves_no_orders(target))


@when("the market-data feed stalls", target_fixture="result")
def stall_drill(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drill_base.outcome("sop.8.3", sop_drills, lambda: feed.staleness_observable(target))


@when("the audit tables are backed up and restored into a disposable database", target_fixture="result")
def backup_restore(target: Target, sandbox: Sandbox | None) -> CheckResult:
    if sandbox is None:
        return restore_drill.check(target, None, None)
    return restore_drill.check(target, sandbox.server, sandbox.workdir / "restore_drill")
