"""The fixtures the registry's steps ask for: the target (resolved once per session) and, on the sandbox, its
components; the run-time values the registry's ``check_needs`` and ``Given.needs`` name (the run id, the drift
measurement, the runbooks, the §4.3 kill-switch flow, the audit export, the scenario's item ...); the drills'
fixtures are in ``disposables``."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ops_checks.access.config import Target, live_target, load_env
from ops_checks.checks import reachability
from ops_checks.checks.s8_clock_drift import drift
from ops_checks.core import signals
from ops_checks.core.result import CheckResult
from ops_checks.procedures import audit_files, kill_switch
from ops_checks.pytest_plugin.disposables import (  # noqa: F401 - the drills' fixtures, registered with these
    DISPOSABLES,
    Disposables,
    emergency_drills,
    incident_drills,
    needed,
    restore_server,
    restore_site,
    restore_workdir,
    sop_drills,
    transition_drills,
    waits_for_a_drill,
)
from ops_checks.pytest_plugin.plugin import (
    KILL_SWITCH_FLOW,
    PROBED,
    SELECTED,
    TARGET_INFO,
    announce,
    left_active_by,
    runbook_dir,
    runbook_item,
    target_name,
)
from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import apply as apply_faults


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The items that read a drill's result run after the others (each group in its own order): the drills run in
    threads from the session's start, so the rest of the run overlaps their waiting. Only the order of execution
    changes; verdict.json and the report list items by id."""
    items[:] = sorted(items, key=waits_for_a_drill)  # stable: False first


@pytest.fixture(scope="session")
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox | None]:
    if target_name(request.config) != "sandbox":
        yield None
        return
    sb = Sandbox()
    disposables: Disposables | None = None
    try:
        announce(request.config, "phase starting the sandbox: Postgres, VALR simulator, reference bot")
        sb.server = postgres.start_server()  # still the sandbox's own: stopped by sb.stop()
        # the drills start alongside, each on a disposable sandbox of its own on this server; not with the
        # operator's migrations, whose first database takes the fixed name autonomous_alpha (they run in turn)
        names: list[str] = []
        if not postgres.migrations_from_env():
            selected = request.config.stash[SELECTED]
            names = needed(selected)
        disposables = request.config.stash[DISPOSABLES] = Disposables(request.config, sb, names)
        sb.start()
        apply_faults(sb, list(request.config.getoption("--sandbox-fault")))
        announce(request.config, "phase sandbox up; checking")
        yield sb
    finally:
        with signals.deferred():  # a second Ctrl-C must not cut the tear-down short: it would leave databases behind
            try:
                if disposables is not None:
                    disposables.close()
            finally:
                sb.stop()


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, sandbox: Sandbox | None) -> Target:
    config = request.config
    if sandbox is not None:
        assert sandbox.target is not None
        resolved = sandbox.target
    else:
        env_file = config.getoption("--env-file")
        env = load_env(Path(env_file) if env_file else None)
        resolved = live_target(env, allow_mutations=bool(config.getoption("--allow-mutations")))
        # every host once, in parallel: a dead one costs one timeout, not one per item
        config.stash[PROBED] = {p.name: p.problem for p in reachability.probe(resolved)}
    config.stash[TARGET_INFO] = resolved.describe()
    return resolved


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def drift_measurement(target: Target) -> drift.Measurement:
    """The exchange clock offset, measured once per session, so every item that judges it (§8, SOP 1) reports the
    same samples."""
    return drift.measure(target)


@pytest.fixture(scope="session", name="runbook_dir")
def runbook_dir_fixture(request: pytest.FixtureRequest) -> Path | None:
    """The runbooks' directory (``--runbook``, ``$OPSCHECK_RUNBOOK_DIR``), or None when there is none."""
    path = runbook_dir(request.config)
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def exchange_orders(target: Target) -> Callable[[], int] | None:
    """The orders the exchange received so far, where the target can tell (the sandbox's simulator; not live)."""
    return target.exchange_orders


@pytest.fixture
def runbook_item_id(request: pytest.FixtureRequest) -> str:
    """The runbook item of the running scenario (a Given resting on how far a drill got asks which item it is)."""
    return runbook_item(request.node) or ""


@pytest.fixture(scope="session")
def kill_switch_flow(target: Target, request: pytest.FixtureRequest) -> kill_switch.KillSwitchFlow:
    """The §4.3 kill-switch verification (the §4.4/§4.5 items' drill: ``catalogue`` ``Item.drill``), run whole the
    first time an item asks for it; the flow is kept (``KILL_SWITCH_FLOW``) even if interrupted."""
    opts = kill_switch.FlowOptions.for_target(target)
    flow = request.config.stash[KILL_SWITCH_FLOW] = kill_switch.KillSwitchFlow(opts.method)
    return kill_switch.run_flow(target, opts, flow)


@pytest.fixture
def kill_switch_left_active_by(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """The item of this run whose failure left the kill switch ACTIVE (``plugin.left_active_by``), as of now."""
    return left_active_by(request.config)


@pytest.fixture
def audit_workdir() -> Iterator[Path]:
    """Exports and reports go here, outside the report directory, and are removed when the item ends."""
    with tempfile.TemporaryDirectory(prefix="opscheck-audit-") as d:
        yield Path(d)


@pytest.fixture
def audit_export(target: Target, audit_workdir: Path) -> tuple[Path | None, CheckResult | None]:
    """7.2.2's export of the last day (``audit_files.prepare_export``): its directory, or why there is none."""
    return audit_files.prepare_export(target, audit_workdir)


@pytest.fixture
def audit_export_dir(audit_export: tuple[Path | None, CheckResult | None]) -> Path | None:
    """The directory of 7.2.2's export (its Given has made sure there is one)."""
    return audit_export[0]
