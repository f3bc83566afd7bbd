"""Steps for runbook §1.2 (exchange connectivity)."""

from __future__ import annotations

from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.checks.s1_preconditions import exchange
from ops_checks.checks.s8_clock_drift import drift
from ops_checks.core.result import CheckResult


@when("VALR's public time and status are requested", target_fixture="result")
def public_time(target: Target) -> CheckResult:
    return exchange.valr_reachable(target)


@when("a signed request reads the API key's own description", target_fixture="result")
def api_key(target: Target) -> CheckResult:
    return exchange.api_key_valid(target)


@when("the account balances are read with a signed request", target_fixture="result")
def balances(target: Target) -> CheckResult:
    return exchange.balance_readable(target)


@when("the clock offset to VALR is estimated from several samples", target_fixture="result")
def clock_offset(target: Target) -> CheckResult:
    return drift.drift_within_tolerance(target)
