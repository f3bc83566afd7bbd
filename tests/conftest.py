"""Fixtures for the suite's own tests: one Postgres server shared by every preflight this worker starts."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ops_checks.config import DbParams
from ops_checks.sandbox import postgres
from ops_checks.secret import Secret


@pytest.fixture(scope="session")
def shared_pg_env() -> Iterator[dict[str, str]]:
    """Environment for preflight subprocesses: they create their own database on this worker's server."""
    server = postgres.start_server()
    try:
        yield dict(os.environ, **{postgres.DSN_ENV: server.admin_dsn})
    finally:
        server.stop()


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
