"""Fixtures for the suite's own tests: one Postgres server shared by every preflight this worker starts."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops_checks.access.config import DbParams
from ops_checks.catalogue import runbook_text
from ops_checks.core.secret import Secret
from ops_checks.sandbox import postgres
from tests.fork_runner import ForkRunner
from tests.preflight_runner import Run, latest_run, preflight


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests (whole preflights: ``slow`` but not the fault matrix) first, then the fault matrix, then the
    tests on a Postgres server (sandboxes, bots, drills: seconds of waiting each), then the unit tests, so that with
    ``-n`` the short tests fill the workers at the end instead of a long one starting last. Stable, and the same on
    every worker (xdist requires it)."""

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("fault_matrix"):
            return 1
        if item.get_closest_marker("slow"):
            return 0
        return 2 if "shared_pg_env" in getattr(item, "fixturenames", ()) else 3

    items.sort(key=rank)


@pytest.fixture(scope="session")
def runbooks_dir(request: pytest.FixtureRequest) -> Path:
    """The runbooks a test about runbook text reads: ``--runbook DIR``, else ``$OPSCHECK_RUNBOOK_DIR``, else
    ``../shared/runbooks`` beside the checkout; the test is skipped, naming the path, when they are not there."""
    path = runbook_text.resolve_dir(request.config.getoption("--runbook"))
    if not (path / runbook_text.FILES[runbook_text.LIVE_RUNBOOK]).is_file():
        pytest.skip(f"runbooks not found at {path} (pass --runbook DIR or set {runbook_text.ENV})")
    return path


@pytest.fixture(scope="session")
def shared_pg_env() -> Iterator[dict[str, str]]:
    """Environment for preflight subprocesses: they create their own database on this worker's server."""
    server = postgres.start_server()
    try:
        yield dict(os.environ, **{postgres.DSN_ENV: server.admin_dsn})
    finally:
        server.stop()


@pytest.fixture(scope="session")
def healthy_run(shared_pg_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The whole sandbox preflight through ``opscheck preflight`` as an operator runs it, with the HTML report,
    signed by an operator and a witness: made once per test session, whichever worker asks first (the others wait
    for it under a file lock and read it), and read by the matrix's end-to-end GO case and the HTML report's tests.
    (xdist's ``loadgroup`` cannot keep them on one worker: with pytest 9 it no longer changes an item's node id.)"""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the session's, not a worker's
    record = shared / "healthy-run.json"
    with (shared / "healthy-run.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            run = preflight(
                shared / "healthy-run", "--operator", "A. Operator", "--witness", "B. Witness", env=shared_pg_env
            )
            record.write_text(json.dumps({"exit_code": run.exit_code, "output": run.output}))
    saved = json.loads(record.read_text())
    return latest_run(shared / "healthy-run", saved["exit_code"], saved["output"])


@pytest.fixture(scope="session")
def fork_runner(shared_pg_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkRunner]:
    """This worker's warm preflight process: each ``run`` is one preflight in a child forked from it."""
    runner = ForkRunner(shared_pg_env, tmp_path_factory.mktemp("fork-runner"))
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture(scope="session")
def server(shared_pg_env: dict[str, str]) -> postgres.Server:
    """This worker's shared server, for tests that build disposable sandboxes (``Sandbox(server=server)``)."""
    return postgres.Server(shared_pg_env[postgres.DSN_ENV], "dsn")


@pytest.fixture(scope="module")
def database(server: postgres.Server) -> Iterator[postgres.Database]:
    """A seeded sandbox database of its own for one test module, on the worker's shared server."""
    db = postgres.create_database(server)
    try:
        yield db
    finally:
        postgres.drop_database(db)


@pytest.fixture(scope="module")
def params(database: postgres.Database) -> DbParams:
    return DbParams(database.host, database.port, database.name, database.user, Secret(database.password))
