"""Session fixtures: the target (resolved once per session) and, on the sandbox, its components."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops_checks.access.config import Target, live_target, load_env
from ops_checks.checks import reachability
from ops_checks.checks.s8_clock_drift import drift
from ops_checks.core import signals
from ops_checks.pytest_plugin.disposables import (  # noqa: F401 - the drills' fixtures, registered with these
    DISPOSABLES,
    Disposables,
    emergency_drills,
    incident_drills,
    needed,
    restore_site,
    sop_drills,
    transition_drills,
    waits_for_a_drill,
)
from ops_checks.pytest_plugin.plugin import PROBED, SELECTED, TARGET_INFO, announce, runbook_dir, target_name
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
