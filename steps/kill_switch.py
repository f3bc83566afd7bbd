"""Steps for runbook §4 (kill switch): the §4.3 procedure runs once per session; each item reads its step."""

from __future__ import annotations

import pytest
from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.core.result import CheckResult
from ops_checks.procedures import kill_switch
from ops_checks.pytest_plugin.plugin import KILL_SWITCH_FLOW


@pytest.fixture(scope="session")
def kill_switch_flow(target: Target, request: pytest.FixtureRequest) -> kill_switch.KillSwitchFlow:
    """Runs the whole mutating procedure the first time a §4.3/§4.5 item asks for it."""
    opts = kill_switch.FlowOptions.for_target(target)
    flow = request.config.stash[KILL_SWITCH_FLOW] = kill_switch.KillSwitchFlow(opts.method)  # kept even if interrupted
    return kill_switch.run_flow(target, opts, flow)


@when("the kill switch's current state is checked", target_fixture="result")
def initial_state(kill_switch_flow: kill_switch.KillSwitchFlow) -> CheckResult:
    return kill_switch_flow.result("4.4.1")


@when("the kill switch is activated", target_fixture="result")
def activated(kill_switch_flow: kill_switch.KillSwitchFlow) -> CheckResult:
    return kill_switch_flow.result("4.4.2")


@when("the bot's policy decisions are watched for HALT", target_fixture="result")
def halt(kill_switch_flow: kill_switch.KillSwitchFlow) -> CheckResult:
    return kill_switch_flow.result("4.4.3")


@when("a signed test trade is sent while the kill switch is active", target_fixture="result")
def test_trade(kill_switch_flow: kill_switch.KillSwitchFlow) -> CheckResult:
    return kill_switch_flow.result("4.4.4")


@when("the kill switch is deactivated", target_fixture="result")
def deactivated(kill_switch_flow: kill_switch.KillSwitchFlow) -> CheckResult:
    return kill_switch_flow.result("4.4.5")


@when("the bot's policy decisions are watched for ALLOW", target_fixture="result")
def allow(kill_switch_flow: kill_switch.KillSwitchFlow) -> CheckResult:
    return kill_switch_flow.result("4.4.6")


@when("the time from the committed UPDATE to the first HALT decision is measured", target_fixture="result")
def response_time(kill_switch_flow: kill_switch.KillSwitchFlow) -> CheckResult:
    return kill_switch_flow.result("4.5.1")
