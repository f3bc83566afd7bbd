"""Fixtures for the suite's own tests: one Postgres server shared by every preflight this worker starts."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ops_checks.sandbox import postgres


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
