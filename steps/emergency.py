"""Steps for runbook §5 (emergency shutdown): drills on a disposable sandbox, read-only readiness on live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_bdd import when

from ops_checks import emergency, emergency_drill
from ops_checks.config import Target
from ops_checks.result import CheckResult
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import apply as apply_faults

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def runbook_dir(request: pytest.FixtureRequest) -> Path | None:
    opt = request.config.getoption("--runbook", default=None)
    path = Path(opt) if opt else REPO.parent / "shared" / "runbooks"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def emergency_drills(
    request: pytest.FixtureRequest, sandbox: Sandbox | None, runbook_dir: Path | None
) -> Iterator[emergency_drill.Drill | None]:
    """One disposable sandbox on the session's Postgres server, broken like the session's, drilled, stopped."""
    if sandbox is None:
        yield None
        return
    drill_sb = Sandbox(server=sandbox.server)
    try:
        drill_sb.start()
        apply_faults(drill_sb, list(request.config.getoption("--sandbox-fault")))
        drill = emergency_drill.run(drill_sb, runbook_dir, sandbox.workdir / "emergency_audit")
    finally:
        if drill_sb.bot is not None:
            drill_sb.bot.knobs.reset()  # ends what a fault left running after the stop
        drill_sb.stop()
    yield drill


@when("the L1 kill-switch one-liner is exercised", target_fixture="result")
def l1(target: Target, emergency_drills: emergency_drill.Drill | None, runbook_dir: Path | None) -> CheckResult:
    return emergency_drill.outcome("5.2.1", emergency_drills, lambda: emergency.l1_ready(target, runbook_dir))


@when("the trading bot is stopped", target_fixture="result")
def l2(target: Target, emergency_drills: emergency_drill.Drill | None) -> CheckResult:
    return emergency_drill.outcome("5.3.1", emergency_drills, lambda: emergency.l2_ready(target))


@when("all services are stopped", target_fixture="result")
def l3(target: Target, emergency_drills: emergency_drill.Drill | None) -> CheckResult:
    return emergency_drill.outcome("5.4.1", emergency_drills, lambda: emergency.l3_ready(target))


@when("a security-breach shutdown is rehearsed", target_fixture="result")
def l4(target: Target, emergency_drills: emergency_drill.Drill | None, runbook_dir: Path | None) -> CheckResult:
    return emergency_drill.outcome("5.5.1", emergency_drills, lambda: emergency.l4_ready(target, runbook_dir))
