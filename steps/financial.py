"""Steps for runbook §1.5 (financial verification)."""

from __future__ import annotations

from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.checks.s1_preconditions import exchange, limits
from ops_checks.core.result import CheckResult


@when("the recorded starting equity is compared with the ZAR balance on VALR", target_fixture="result")
def starting_equity(target: Target) -> CheckResult:
    return exchange.starting_equity_recorded(target)


@when("ZAR_FLOOR is read from the environment", target_fixture="result")
def zar_floor(target: Target) -> CheckResult:
    return limits.zar_floor(target)


@when("MAX_ORDER_ZAR is read from the environment", target_fixture="result")
def max_order(target: Target) -> CheckResult:
    return limits.max_order(target)


@when("MAX_RISK_ZAR is read from the environment", target_fixture="result")
def max_risk(target: Target) -> CheckResult:
    return limits.max_risk(target)
