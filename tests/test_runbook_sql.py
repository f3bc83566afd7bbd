"""Every SQL statement the runbooks print runs against the shipped schema (DESIGN.md §6).

Sandbox mode: as the application role, inside a transaction that is always rolled back. Live mode: EXPLAIN only in
a read-only session. A statement that cannot work is either a schema bug (fix schema.sql) or a runbook defect
(listed below with the reason).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ops_checks.access.config import DbParams
from ops_checks.checks import runbook_sql
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret
from ops_checks.sandbox import postgres

REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2025, 3, 7, 9, 5, 3, 123456, tzinfo=UTC)

# Statements that cannot work on the real bot's schema (TRADE_BOT v1.9.0, modelled by the sandbox): the runbook's
# known disagreements with the bot, each with the error it must give and why. Asserted exactly: a statement that
# starts to fail, or stops failing, changes this list on purpose (and docs/RUNBOOK-VS-BOT.md with it).
TEXT_ID = (
    "the runbook writes a text id into the uuid correlation_id, and a policy_decision/reason_code outside the "
    "bot's CHECK lists (ALLOW/NEUTRAL/HALT; the bot's reason codes): an operator action is no policy decision"
)
KNOWN_DISAGREEMENTS: dict[str, tuple[str, str]] = {
    "live-trading-runbook.md:230 (3.2 Transition Procedure)": (
        'invalid input syntax for type uuid: "LIVE_TRANSITION_20250307_090503"',
        TEXT_ID,
    ),
    "live-trading-runbook.md:314 (3.2 Transition Procedure)": (
        'relation "valr_balances" does not exist',
        "the bot keeps no balances table: it reads them from VALR",
    ),
    "live-trading-runbook.md:367 (3.2 Transition Procedure)": (
        'invalid input syntax for type uuid: "LIVE_TRANSITION_COMPLETE_20250307_090503"',
        TEXT_ID,
    ),
    "live-trading-runbook.md:423 (3.4 Rollback Procedure)": (
        'invalid input syntax for type uuid: "LIVE_ROLLBACK_20250307_090503"',
        TEXT_ID,
    ),
    "live-trading-runbook.md:890 (6.5 Resume Trading Procedure)": (
        'invalid input syntax for type uuid: "POST_INCIDENT_RESUME_20250307_090503"',
        TEXT_ID,
    ),
    "live-trading-runbook.md:1020 (7.2 Full Audit Export)": (
        'relation "ai_debate_ledger" does not exist',
        "the bot's table is ai_debates (migration 007)",
    ),
    "live-trading-runbook.md:1029 (7.2 Full Audit Export)": (
        'relation "risk_audit" does not exist',
        "the bot's table is risk_assessments (migration 006)",
    ),
    "live-trading-runbook.md:1092 (7.3.3 Trade Execution Audit)": (
        "column t.symbol does not exist",
        "trading_orders has pair and execution_price, not symbol and price",
    ),
    "live-trading-runbook.md:1174 (7.4 Compliance Report Generation)": (
        'column "pnl_zar" does not exist',
        "trading_orders has realized_pnl_zar, not pnl_zar",
    ),
}

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
def runbooks(runbooks_dir: Path) -> Path:
    return runbooks_dir


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
def test_every_runbook_statement_works_on_the_shipped_schema_but_the_known_disagreements(
    database: tuple[postgres.Database, DbParams], statements: list[runbook_sql.Statement], explain_only: bool
) -> None:
    db, params = database
    before = snapshot(db)
    problems = runbook_sql.check_statements(params, Redactor(), statements, explain_only=explain_only)
    failing = {s.where: p for s, p in problems.items() if p}
    assert set(failing) == set(KNOWN_DISAGREEMENTS), failing
    for where, (error, _why) in KNOWN_DISAGREEMENTS.items():
        assert failing[where] == error, (where, failing[where])
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
        conn.execute("REVOKE UPDATE ON system_settings FROM app_trading")  # the session role inherits its grants
        try:
            problem = runbook_sql.check_statements(params, Redactor(), l1, explain_only=True)[l1[0]]
            assert "permission denied" in problem
        finally:
            conn.execute("GRANT UPDATE ON system_settings TO app_trading")


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


def test_checks_name_every_value_explain_cannot_see(
    database: tuple[postgres.Database, DbParams], statements: list[runbook_sql.Statement]
) -> None:
    """EXPLAIN stops at the uuid; the CHECK lists are read from the catalogue, so every bad value is named."""
    _, params = database
    values = runbook_sql.literal_violations(params, Redactor(), statements)
    transition = next(s for s in statements if s.where.startswith("live-trading-runbook.md:230"))
    assert set(values) == {
        s for s in statements if s.where in KNOWN_DISAGREEMENTS and "uuid" in KNOWN_DISAGREEMENTS[s.where][0]
    }
    assert values[transition] == (
        "correlation_id is uuid, the runbook writes 'LIVE_TRANSITION_20250307_090503'; policy_decision 'TRANSITION' "
        "is not one of ALLOW, NEUTRAL, HALT; reason_code 'DRY_RUN_TO_LIVE' is not one of ALLOW_ALL_GATES_PASSED, "
        "HALT_KILL_SWITCH, HALT_BUDGET_HARD_STOP, HALT_BUDGET_RDS_EXCEEDED, HALT_BUDGET_STALE_DATA, "
        "HALT_RISK_CRITICAL, NEUTRAL_HEALTH_YELLOW, NEUTRAL_HEALTH_RED, HALT_LATCHED, HALT_CONTEXT_INCOMPLETE"
    )


def test_tables_and_columns_the_runbook_names(
    database: tuple[postgres.Database, DbParams], statements: list[runbook_sql.Statement]
) -> None:
    _, params = database
    tables = sorted({r for s in statements for r in runbook_sql.table_refs(s)})
    columns = sorted({r for s in statements for r in runbook_sql.column_refs(s)})
    problems = runbook_sql.check_references(params, Redactor(), tables, columns)
    assert {k: v for k, v in problems.items() if v} == {
        ("valr_balances", "SELECT"): "table valr_balances does not exist",
        ("ai_debate_ledger", "SELECT"): "table ai_debate_ledger does not exist",
        ("risk_audit", "SELECT"): "table risk_audit does not exist",
        ("trading_orders", "symbol"): "column trading_orders.symbol does not exist",
        ("trading_orders", "price"): "column trading_orders.price does not exist",
    }
    assert problems[("policy_decision_audit", "INSERT")] == ""  # 900_runbook_fixes.sql grants it


def test_a_role_without_the_grant_is_named(database: tuple[postgres.Database, DbParams]) -> None:
    """As migration 021 leaves app_trading: no privilege on policy_decision_audit."""
    db, params = database
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        conn.execute("REVOKE SELECT, INSERT ON policy_decision_audit FROM app_trading")
        try:
            problems = runbook_sql.check_references(params, Redactor(), [("policy_decision_audit", "SELECT")], [])
            assert problems == {
                ("policy_decision_audit", "SELECT"): f"{db.user} has no SELECT on policy_decision_audit"
            }
        finally:
            conn.execute("GRANT SELECT, INSERT ON policy_decision_audit TO app_trading")


def test_runbook_check_command_on_the_sandbox(shared_pg_env: dict[str, str], runbooks: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ops_checks.cli", "runbook", "check", "--target", "sandbox", "--runbook", str(runbooks)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=shared_pg_env,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    bad = [line for line in proc.stdout.splitlines() if " DISAGREES " in line]
    text = "\n".join(bad)
    for where in KNOWN_DISAGREEMENTS:
        assert f"{where}  " in text or where in text, where
    assert "POST http://localhost:8000/api/guardian/kill-switch" in text and "/guardian/unlock" in text
    assert "WEBHOOK_SECRET" in text and "GUARDIAN_ADMIN_TOKEN" in text
    assert "the bot has ai_debates" in text and "the bot has trading_orders.pair" in text
    assert "Traceback" not in proc.stderr
