"""``opscheck init``: the suite's schema, created by a role that may create, with grants for the bot's role."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from ops_checks.access.install import opscheck
from ops_checks.sandbox import postgres
from tests.preflight_runner import REPO


@pytest.fixture
def bare_db(server: postgres.Server) -> Iterator[postgres.Database]:
    """A bot database without the suite's schema (as a fresh TRADE_BOT deployment is)."""
    db = postgres.create_database(server, seed=False)
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA opscheck CASCADE")
    yield db
    postgres.drop_database(db)


def env_file(tmp_path: Path, db: postgres.Database, **extra: str) -> Path:
    lines = {
        "DB_HOST": db.host,
        "DB_PORT": str(db.port),
        "DB_NAME": db.name,
        "DB_USER": db.user,
        "DB_PASSWORD": db.password,
        **extra,
    }
    path = tmp_path / "live.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
    return path


def init(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPSCHECK_ADMIN_DSN", "POSTGRES_USER", "POSTGRES_PASSWORD", "DB_USER", "BOT_DB_USER")
    }
    return subprocess.run(
        [sys.executable, "-m", "ops_checks.cli", "init", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_init_twice_then_the_bot_role_can_append_but_not_delete(tmp_path: Path, bare_db: postgres.Database) -> None:
    f = env_file(tmp_path, bare_db, OPSCHECK_ADMIN_DSN=bare_db.admin_db_dsn)
    first = init("--env-file", str(f))
    assert first.returncode == 0, first.stderr
    assert f"version {opscheck.VERSION}: installed" in first.stdout
    assert f'GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA opscheck TO "{bare_db.user}";' in first.stdout
    second = init("--env-file", str(f))
    assert second.returncode == 0 and "already installed, verified" in second.stdout, second.stderr
    with psycopg.connect(bare_db.admin_db_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM opscheck.ops_schema_version").fetchone() == (1,)
        tables = {
            r[0]
            for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'opscheck'")
        }
        assert tables == set(opscheck.TABLES)
    with psycopg.connect(bare_db.app_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO opscheck.secret_rotations (secret_name, rotated_by) VALUES ('VALR_API_KEY', 'Ann')")
        assert conn.execute("SELECT count(*) FROM opscheck.secret_rotations").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM opscheck.secret_rotations")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE opscheck.ops_signoffs SET verdict = 'GO'")


def test_init_with_the_superuser_variables(tmp_path: Path, server: postgres.Server, bare_db: postgres.Database) -> None:
    admin = conninfo_to_dict(server.admin_dsn)
    f = env_file(
        tmp_path,
        bare_db,
        POSTGRES_USER=str(admin.get("user") or "postgres"),
        POSTGRES_PASSWORD=str(admin.get("password") or ""),
    )
    run = init("--env-file", str(f), "--role", "app_trading")
    assert run.returncode == 0 and 'TO "app_trading";' in run.stdout, run.stderr
    if admin.get("password"):
        assert str(admin["password"]) not in run.stdout + run.stderr


def test_a_role_that_may_not_create_is_refused_in_one_line(tmp_path: Path, bare_db: postgres.Database) -> None:
    f = env_file(tmp_path, bare_db, OPSCHECK_ADMIN_DSN=bare_db.app_dsn)
    run = init("--env-file", str(f))
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stderr.startswith("opscheck init: FAILED:") and "permission denied" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and bare_db.password not in run.stderr


def test_print_sql_connects_to_nothing(tmp_path: Path) -> None:
    f = tmp_path / "live.env"
    f.write_text("DB_HOST=127.0.0.1\nDB_PORT=1\nDB_USER=bot_role\n")
    run = init("--env-file", str(f), "--print-sql")
    assert run.returncode == 0, run.stderr
    assert "CREATE SCHEMA IF NOT EXISTS opscheck;" in run.stdout
    assert 'GRANT UPDATE ON opscheck.ops_incidents TO "bot_role";' in run.stdout
    assert "DELETE" not in run.stdout.split("-- grants")[1]


def test_unreadable_env_file_cannot_run(tmp_path: Path) -> None:
    run = init("--env-file", str(tmp_path / "missing.env"))
    assert run.returncode == 2 and run.stderr.startswith("opscheck init: cannot run:"), run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
