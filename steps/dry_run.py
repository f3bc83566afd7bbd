"""Steps for runbook §1.6 (DRY_RUN validation): the test signal, whose orders the sandbox's exchange counts."""

from __future__ import annotations

from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.checks.s1_preconditions import dry_run
from ops_checks.core.result import CheckResult
from ops_checks.sandbox.environment import Sandbox


@when("a signed test signal is sent to the bot's webhook", target_fixture="result")
def test_signal(target: Target, sandbox: Sandbox | None) -> CheckResult:
    valr = sandbox.valr if sandbox is not None else None
    orders = (lambda: len(valr.orders)) if valr is not None else None
    return dry_run.test_signal(target, orders)
