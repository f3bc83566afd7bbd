"""``opscheck preflight --migrations DIR``: the operator's own migration files build the sandbox's bot schema.

Files apply in lexical order, each in its own transaction, stopping at the first error; a file that fails, or a
schema the sandbox seed cannot fit, is a one-line error naming the file and exit 2, before any check runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from ops_checks.sandbox import postgres
from tests.preflight_runner import preflight

DATA = Path(__file__).with_name("data")
OK, BROKEN, NOSEED = DATA / "migrations_ok", DATA / "migrations_broken", DATA / "migrations_noseed"


def test_files_apply_in_lexical_order(server: postgres.Server) -> None:
    assert [p.name for p in postgres.migration_files(OK)] == [
        "001_roles.sql",
        "002_tables.sql",
        "010_more_tables.sql",
        "020_grants.sql",
    ]
    db = postgres.create_database(server, migrations=OK)
    try:
        with psycopg.connect(db.admin_db_dsn) as conn:
            tables = {
                r[0]
                for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            }
            assert tables == {
                "system_settings",
                "policy_decision_audit",
                "signals",
                "trading_orders",
                "circuit_breaker_events",
            }
            assert conn.execute("SELECT count(*) FROM trading_orders").fetchone() == (25,)  # the seed fitted
        assert postgres.privilege_gaps(db.admin_db_dsn) == []
    finally:
        postgres.drop_database(db)


def test_a_failing_file_stops_the_run_and_is_named(server: postgres.Server, monkeypatch: pytest.MonkeyPatch) -> None:
    tag = "e0e0" + os.urandom(2).hex()
    monkeypatch.setattr(postgres.secrets, "token_hex", lambda n=4: tag)  # a known database name
    with pytest.raises(postgres.MigrationError) as err:
        postgres.create_database(server, migrations=BROKEN)
    assert str(err.value) == 'migration 003_bad_fk.sql failed: relation "no_such_table" does not exist'
    with psycopg.connect(server.admin_dsn, autocommit=True) as conn:  # the half-built database was dropped
        assert conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (f"autonomous_alpha_{tag}",)
        ).fetchone() == (0,)


def test_a_schema_the_seed_cannot_fit_names_every_gap(server: postgres.Server) -> None:
    with pytest.raises(postgres.MigrationError) as err:
        postgres.create_database(server, migrations=NOSEED)
    message = str(err.value)
    assert "\n" not in message
    assert "seed does not fit" in message and "compute_row_hash: Unknown table circuit_breaker_events" in message
    assert "app_trading lacks SELECT, INSERT on policy_decision_audit" in message


def test_not_a_directory_or_empty(tmp_path: Path) -> None:
    with pytest.raises(postgres.MigrationError, match="not a directory"):
        postgres.migration_files(tmp_path / "missing")
    with pytest.raises(postgres.MigrationError, match=r"no \*\.sql files"):
        postgres.migration_files(tmp_path)


@pytest.mark.parametrize(
    ("directory", "says"),
    [
        (BROKEN, "migration 003_bad_fk.sql failed"),
        (NOSEED, "app_trading lacks SELECT, INSERT on policy_decision_audit"),
    ],
    ids=["broken", "seed-does-not-fit"],
)
def test_cli_exits_2_with_one_line(tmp_path: Path, shared_pg_env: dict[str, str], directory: Path, says: str) -> None:
    run = preflight(
        tmp_path, "--migrations", str(directory), "--no-html", "-m", "section_1_1", env=shared_pg_env, timeout=60
    )
    assert run.exit_code == 2, run.output
    errors = [line for line in run.output.splitlines() if line.startswith("opscheck preflight: cannot run:")]
    assert len(errors) == 1 and says in errors[0] and str(directory) in errors[0], run.output
    assert "Traceback" not in run.output and run.verdict is None


def test_cli_runs_the_checks_on_the_migrated_schema(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    """The minimal schema has no circuit_breaker_active column: 1.1.2 fails on it, proving the run used it."""
    run = preflight(
        tmp_path,
        "--migrations",
        str(OK),
        "--no-html",
        "--features",
        "1_1_*.feature",
        "-m",
        "section_1_1",
        env=shared_pg_env,
        timeout=120,
    )
    assert run.exit_code == 1, run.output
    assert run.failed("1.1") == {"1.1.2"}, run.output[-2000:]


def test_cli_refuses_migrations_on_live(tmp_path: Path, shared_pg_env: dict[str, str]) -> None:
    env_file = tmp_path / "live.env"
    env_file.write_text("DB_HOST=127.0.0.1\n")
    run = preflight(
        tmp_path / "r",
        "--target",
        "live",
        "--env-file",
        str(env_file),
        "--migrations",
        str(OK),
        env=shared_pg_env,
        timeout=60,
    )
    assert run.exit_code == 2 and "--migrations applies to --target sandbox only" in run.output, run.output
