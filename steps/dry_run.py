"""Steps for runbook §1.6 (DRY_RUN validation)."""

from __future__ import annotations

from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.checks.s1_preconditions import dry_run
from ops_checks.core.result import CheckResult


@when("EXECUTION_MODE is read from the environment and from the bot", target_fixture="result")
def mode(target: Target) -> CheckResult:
    return dry_run.execution_mode(target)


@when("a signed test signal is sent to the bot's webhook", target_fixture="result")
def test_signal(target: Target) -> CheckResult:
    return dry_run.test_signal(target)


@when("the latest policy decision is read from the audit log", target_fixture="result")
def decisions(target: Target) -> CheckResult:
    return dry_run.decisions_logged(target)


@when("the last 24 hours of decisions and orders are reviewed", target_fixture="result")
def review(target: Target) -> CheckResult:
    return dry_run.dry_run_review(target)
