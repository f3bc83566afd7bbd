"""Steps for runbook §1.6 (DRY_RUN validation)."""

from __future__ import annotations

from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.checks.s1_preconditions import dry_run
from ops_checks.core.result import CheckResult


@when("a signed test signal is sent to the bot's webhook", target_fixture="result")
def test_signal(target: Target) -> CheckResult:
    return dry_run.test_signal(target)
