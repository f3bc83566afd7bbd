"""Every SQL statement the runbooks print runs against the shipped schema (DESIGN.md §6).

Sandbox mode: as the application role, inside a transaction that is always rolled back. Live mode: EXPLAIN only in
a read-only session. A statement that cannot work is either a schema bug (fix schema.sql) or a runbook defect
(listed below with the reason).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ops_checks import runbook_sql
from ops_checks.config import DbParams
from ops_checks.redaction import Redactor
from ops_checks.sandbox import postgres
from ops_checks.secret import Secret

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 3, 7, 9, 5, 3, 123456, tzinfo=UTC)

# Statements that cannot work on our schema, with the reason. Empty: on the shipped schema every one of the 45
# statements of the live runbook runs (rolled back) and EXPLAINs. Add an entry only with the reason it fails.
CANNOT_WORK: dict[str, str] = {}

# Runbook defects that are not SQL errors: the statements run, but do not do what the runbook relies on.
DEFECTS = {
    "5.2 L1 one-liner / 5.5 L4 step 1 / 5.8 card": "set circuit_breaker_active without circuit_breaker_triggered_at "
    "(and the card and §4.5 without a reason) and write no circuit_breaker_events row, so §7.3.2's 'Kill switch "
    "activations' query never lists an emergency activation",
    "7.2 Full Audit Export": "END_DATE=2024-12-31 with `< '$END_DATE'` leaves the last day of the range out",
    "5.5 L4 step 5": "`docker exec -it … pg_dump > file` is not SQL, needs a TTY and turns line ends into CRLF "
    "(DESIGN.md §8.5); the emergency audit dump streams COPY … TO STDOUT through psycopg instead",
    "incident-response-sop.md": "no SQL: bash (Coinbase CDP keys, curl, python scripts) and Python blocks",
}


@pytest.fixture(scope="module")
def runbooks(request: pytest.FixtureRequest) -> Path:
    opt = request.config.getoption("--runbook")
    path = Path(opt) if opt else REPO.parent / "shared" / "runbooks"
    assert (path / "live-trading-runbook.md").exists(), f"runbook not found at {path} (pass --runbook DIR)"
    return path


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[postgres.Database, DbParams]]:
    server = postgres.start_server()
    db = postgres.create_database(server)
    try:
        yield db, DbParams(host=db.host, port=db.port, name=db.name, user=db.user, password=Secret(db.password))
    finally:
        postgres.drop_database(db)
        server.stop()


@pytest.fixture(scope="module")
def statements(runbooks: Path) -> list[runbook_sql.Statement]:
    return runbook_sql.extract_all(runbooks, NOW)


def snapshot(db: postgres.Database) -> tuple[object, ...]:
    with psycopg.connect(db.admin_db_dsn) as conn:
        return tuple(
            conn.execute(q).fetchone()
            for q in (
                "SELECT circuit_breaker_active, circuit_breaker_reason, daily_pnl_reset_at FROM system_settings",
                "SELECT count(*) FROM policy_decision_audit",
                "SELECT count(*) FROM circuit_breaker_events",
            )
        )


def test_extraction_finds_every_kind_of_statement(statements: list[runbook_sql.Statement]) -> None:
    sections = {s.section.split(" ")[0] for s in statements}
    assert len(statements) >= 40
    assert {"1.1", "3.2", "4.3", "4.5", "5.2", "5.5", "5.8", "6.2", "7.2", "7.4", "7.5"} <= sections
    l1 = [s for s in statements if "'EMERGENCY_L1'" in s.sql]
    assert len(l1) == 1 and l1[0].sql.startswith("UPDATE system_settings")
    assert not [s for s in statements if "$" in s.sql or "[" in s.sql or "║" in s.sql or '\\"' in s.sql]
    transition = next(s for s in statements if "LIVE_TRANSITION_" in s.sql)
    assert "LIVE_TRANSITION_20250307_090503" in transition.sql and "opscheck_operator_name" in transition.sql
    assert any("'2025-03-01'" in s.sql for s in statements if s.section.startswith("7.4"))  # $MONTH filled
    assert any("'2024-12-31'" in s.sql for s in statements if s.section.startswith("7.2"))  # block's END_DATE


def test_the_sop_holds_no_sql(runbooks: Path) -> None:
    assert runbook_sql.extract(runbooks / "incident-response-sop.md") == []


@pytest.mark.parametrize("explain_only", [False, True], ids=["rolled-back", "explain-only"])
def test_every_runbook_statement_works_on_the_shipped_schema(
    database: tuple[postgres.Database, DbParams], statements: list[runbook_sql.Statement], explain_only: bool
) -> None:
    db, params = database
    before = snapshot(db)
    problems = runbook_sql.check_statements(params, Redactor(), statements, explain_only=explain_only)
    failing = {f"{s.where}: {s.first_line}": p for s, p in problems.items() if p}
    assert set(failing) == set(CANNOT_WORK), failing
    assert snapshot(db) == before, "a runbook statement was committed"


def test_a_schema_missing_a_column_fails_the_check(
    database: tuple[postgres.Database, DbParams], statements: list[runbook_sql.Statement]
) -> None:
    db, params = database
    l1 = [s for s in statements if "'EMERGENCY_L1'" in s.sql]
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE system_settings RENAME COLUMN circuit_breaker_reason TO cb_reason")
        try:
            for explain in (False, True):
                problem = runbook_sql.check_statements(params, Redactor(), l1, explain_only=explain)[l1[0]]
                assert "circuit_breaker_reason" in problem and "\n" not in problem
        finally:
            conn.execute("ALTER TABLE system_settings RENAME COLUMN cb_reason TO circuit_breaker_reason")


def test_explain_checks_the_roles_privileges(
    database: tuple[postgres.Database, DbParams], statements: list[runbook_sql.Statement]
) -> None:
    db, params = database
    l1 = [s for s in statements if "'EMERGENCY_L1'" in s.sql]
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        conn.execute(f'REVOKE UPDATE ON system_settings FROM "{db.user}"')
        try:
            problem = runbook_sql.check_statements(params, Redactor(), l1, explain_only=True)[l1[0]]
            assert "permission denied" in problem
        finally:
            conn.execute(f'GRANT UPDATE ON system_settings TO "{db.user}"')


def test_the_emergency_one_liner_leaves_no_activation_time(database: tuple[postgres.Database, DbParams]) -> None:
    """DEFECTS[5.2]: proven, not asserted: after the L1 one-liner triggered_at is still NULL."""
    db, _ = database
    with psycopg.connect(db.app_dsn) as conn, conn.transaction(force_rollback=True):
        conn.execute(
            "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = 'EMERGENCY_L1' "
            "WHERE id = 1;"
        )
        row = conn.execute("SELECT circuit_breaker_triggered_at FROM system_settings WHERE id = 1").fetchone()
        assert row == (None,)


def test_filling_shell_values() -> None:
    block = 'START_DATE="2024-01-01"\nMONTH=${1:-$(date +%Y-%m)}\n'
    sql = "SELECT '$START_DATE', '$MONTH-01', 'X_$(date +%Y%m%d_%H%M%S)', '[INCIDENT_ID]', '$END_DATE'"
    assert runbook_sql.fill(sql, block, NOW) == (
        "SELECT '2024-01-01', '2025-03-01', 'X_20250307_090503', 'opscheck_incident_id', '2025-03-07'"
    )
    assert runbook_sql.date_format("%s%3N", NOW) == "1741338303123"


def test_splitting_respects_quotes_and_comments() -> None:
    text = "-- a; comment\nSELECT ';' AS x; UPDATE t SET a = 'b;c' WHERE id = 1;\n-- trailing"
    assert runbook_sql.split_sql(text) == ["-- a; comment\nSELECT ';' AS x", "UPDATE t SET a = 'b;c' WHERE id = 1"]


def test_unfilled_variable_is_reported(database: tuple[postgres.Database, DbParams]) -> None:
    _, params = database
    stmt = runbook_sql.Statement("x.md", 1, "test", "SELECT '$UNKNOWN_VAR'")
    assert "UNKNOWN_VAR" in runbook_sql.check_statements(params, Redactor(), [stmt], explain_only=False)[stmt]
