"""Steps for runbook §1.3 (safety systems)."""

from __future__ import annotations

from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.checks.s1_preconditions import logs, safety
from ops_checks.core.result import CheckResult
from ops_checks.procedures import kill_switch


@when("the kill switch is activated, HALT is awaited, and the kill switch is deactivated", target_fixture="result")
def kill_switch_verified(target: Target) -> CheckResult:
    return kill_switch.verify_kill_switch(target)


@when("the circuit breaker limits are read from system_settings", target_fixture="result")
def circuit_breaker(target: Target) -> CheckResult:
    return safety.circuit_breaker_configured(target)


@when('the bot\'s logs are searched for "[BUDGET_LOADED]"', target_fixture="result")
def budget(target: Target) -> CheckResult:
    return logs.budget_loaded(target)


@when('the bot\'s logs are searched for "health_status="', target_fixture="result")
def health_status(target: Target) -> CheckResult:
    return logs.health_green(target)


@when('the bot\'s logs are searched for "risk_assessment="', target_fixture="result")
def risk(target: Target) -> CheckResult:
    return logs.risk_healthy(target)
