"""Runbook §2 checks as units: gates per mode, limits, placeholders, rotation bands, and the two CLI commands."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ops_checks.access.config import Target, live_target
from ops_checks.checks.s2_environment import gates, rotation, secrets_check
from ops_checks.core.result import not_verified
from ops_checks.core.secret import Secret
from ops_checks.sandbox import postgres

REPO = Path(__file__).resolve().parents[1]
CANARY = {
    "VALR_API_KEY": "Kq4vValrKeyCanary0123456789abcdef",
    "VALR_API_SECRET": "Sx8wValrSecretCanary0123456789abcdef",
    "SOVEREIGN_SECRET": "Pz3uSovereignCanary0123456789abcdefghij",
    "WEBHOOK_SECRET": "Wy6tWebhookCanary0123456789",
    "GUARDIAN_RESET_CODE": "Rr2sResetCanary0123",
    "OPENROUTER_API_KEY": "Oo9pOpenRouterCanary0123456789",
    "POSTGRES_PASSWORD": "Pg5qAdminCanary0123456789",
    "DB_PASSWORD": "Db7rAppCanary0123456789",
    "DISCORD_WEBHOOK_URL": "https://discord.com/api/webhooks/123/Dc1zDiscordTokenCanary0123456789",
}
GOOD = {
    **CANARY,
    "DB_HOST": "db.internal",
    "DB_NAME": "autonomous_alpha",
    "EXECUTION_MODE": "DRY_RUN",
    "KILL_SWITCH_ENABLED": "true",
    "BUDGETGUARD_STRICT_MODE": "true",
    "MAX_ORDER_ZAR": "5000",
    "MAX_RISK_ZAR": "5000",
    "ZAR_FLOOR": "20000",
}


def target(**env: str) -> Target:
    return live_target({k: v for k, v in {**GOOD, **env}.items() if v is not None}, allow_mutations=False)


def test_dry_run_preflight_gates() -> None:
    assert gates.execution_mode(target()).ok
    assert gates.live_trading_confirmed(target()).ok
    assert gates.live_trading_confirmed(target(LIVE_TRADING_CONFIRMED="FALSE")).ok
    bad = gates.live_trading_confirmed(target(LIVE_TRADING_CONFIRMED="TRUE"))
    assert not bad.ok and "DRY_RUN" in bad.reason
    assert not gates.execution_mode(target(EXECUTION_MODE="LIVE")).ok


def test_live_preflight_expects_the_exact_live_pair() -> None:
    live = {"EXPECTED_EXECUTION_MODE": "LIVE", "EXECUTION_MODE": "LIVE", "LIVE_TRADING_CONFIRMED": "TRUE"}
    assert gates.execution_mode(target(**live)).ok and gates.live_trading_confirmed(target(**live)).ok
    assert not gates.execution_mode(target(**{**live, "EXECUTION_MODE": "DRY_RUN"})).ok
    assert not gates.execution_mode(target(**{**live, "EXECUTION_MODE": "live"})).ok
    for value in ("", "true", "YES"):
        assert not gates.live_trading_confirmed(target(**{**live, "LIVE_TRADING_CONFIRMED": value})).ok
    assert not gates.execution_mode(target(EXPECTED_EXECUTION_MODE="PAPER")).ok


def test_flags() -> None:
    assert gates.kill_switch_enabled(target()).ok
    assert not gates.kill_switch_enabled(target(KILL_SWITCH_ENABLED="false")).ok
    assert not gates.kill_switch_enabled(target(KILL_SWITCH_ENABLED="")).ok
    assert not gates.budgetguard_strict(target(BUDGETGUARD_STRICT_MODE="1")).ok


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"MAX_ORDER_ZAR": "abc"}, "MAX_ORDER_ZAR is 'abc': not a decimal amount"),
        ({"MAX_RISK_ZAR": "-5"}, "must be positive"),
        ({"ZAR_FLOOR": ""}, "ZAR_FLOOR is not set"),
        ({"MAX_ORDER_ZAR": "NaN"}, "not a decimal"),
    ],
)
def test_limits_parse(env: dict[str, str], words: str) -> None:
    values, problems = gates.parse_limits(target(**env))
    assert any(words in p for p in problems), problems


def test_placeholders_and_reasons_never_show_values() -> None:
    assert secrets_check.placeholder_problem("X", Secret("")) == "X is not set"
    for value in ("changeme", "your_key_here", "<secret>", "xxxx", " padded "):
        problem = secrets_check.placeholder_problem("X", Secret(value))
        assert problem and value.strip() not in problem
    assert secrets_check.placeholder_problem("X", Secret(CANARY["GUARDIAN_RESET_CODE"])) is None
    result = secrets_check.guardian_reset_code(target())
    assert result.ok and CANARY["GUARDIAN_RESET_CODE"][:8] not in f"{result.observed} {result.reason}"


def test_short_sovereign_secret_fails_before_any_request() -> None:
    result = secrets_check.sovereign_secret(target(SOVEREIGN_SECRET="s" * 31))
    assert not result.ok and "31 characters" in result.reason and "s" * 8 not in result.reason


# ---------------------------------------------------------------- CLI: env verify
def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in GOOD and k not in ("DATABASE_URL",)}
    return subprocess.run(
        [sys.executable, "-m", "ops_checks.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **env},
    )


def _assert_no_secret(text: str) -> None:
    for value in CANARY.values():
        token = value.rsplit("/", 1)[-1]
        assert token not in text and token[:8] not in text


def test_env_verify_passes_and_never_prints_a_value(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}='{v}'\n" for k, v in GOOD.items()))
    proc = _cli("env", "verify", "--env-file", str(env_file), env={})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "ALL CHECKS PASSED" in out and out.count("PASS ") >= 17
    _assert_no_secret(out)


def test_env_verify_exits_1_and_counts_failures(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    bad = {**GOOD, "SOVEREIGN_SECRET": "short-" + "q" * 10, "KILL_SWITCH_ENABLED": "false", "ZAR_FLOOR": "lots"}
    env_file.write_text("".join(f"{k}={v}\n" for k, v in bad.items() if k != "OPENROUTER_API_KEY"))
    proc = _cli("env", "verify", "--env-file", str(env_file), env={"BUDGETGUARD_STRICT_MODE": "false"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out  # 0 ok / 1 failed / 2 cannot run; the summary counts the 4 FAILs:
    # SOVEREIGN_SECRET, KILL_SWITCH_ENABLED, ZAR_FLOOR, OPENROUTER_API_KEY
    assert "FAIL SOVEREIGN_SECRET — must be at least 32 characters (has 16)" in out
    assert "WARN BUDGETGUARD_STRICT_MODE" in out and "4 CHECKS FAILED" in out
    assert "short-qq" not in out
    _assert_no_secret(out)


def test_env_verify_bad_env_file_exits_2(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f'VALR_API_KEY="{CANARY["VALR_API_KEY"]}\n')
    proc = _cli("env", "verify", "--env-file", str(env_file), env={})
    assert proc.returncode == 2 and proc.stderr.strip().startswith(f"opscheck env verify: cannot run: {env_file}:1: ")
    assert "Traceback" not in proc.stderr
    _assert_no_secret(proc.stdout + proc.stderr)


# ---------------------------------------------------------------- rotation record
@pytest.fixture
def database(shared_pg_env: dict[str, str]) -> Iterator[postgres.Database]:
    db = postgres.create_database(postgres.Server(shared_pg_env[postgres.DSN_ENV], "dsn"))
    try:
        yield db
    finally:
        postgres.drop_database(db)


def _db_env(db: postgres.Database) -> dict[str, str]:
    return {
        "DB_HOST": db.host,
        "DB_PORT": str(db.port),
        "DB_NAME": db.name,
        "DB_USER": db.user,
        "DB_PASSWORD": db.password,
    }


def _rotated(db: postgres.Database, name: str, days: int) -> None:
    with psycopg.connect(db.admin_db_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM opscheck.secret_rotations WHERE secret_name = %s", (name,))
        conn.execute(
            "INSERT INTO opscheck.secret_rotations (secret_name, rotated_at, rotated_by) "
            "VALUES (%s, now() - make_interval(days => %s), 'test')",
            (name, days),
        )


def test_rotation_bands(database: postgres.Database) -> None:
    t = live_target(_db_env(database), allow_mutations=False)
    name = "VALR_API_KEY"
    assert rotation.within_period(t, name).ok and rotation.not_far_overdue(t, name).ok
    _rotated(database, name, 100)
    assert not rotation.within_period(t, name).ok and rotation.not_far_overdue(t, name).ok
    assert rotation.far_overdue(t, name) is None
    _rotated(database, name, 181)
    assert not rotation.not_far_overdue(t, name).ok
    warning_rests_on = rotation.far_overdue(t, name) or not_verified("")
    assert warning_rests_on.blocked_by == ("2.4.1.1",) and "not verified" not in warning_rests_on.reason
    _rotated(database, "SOVEREIGN_SECRET", 179)
    assert rotation.within_period(t, "SOVEREIGN_SECRET").ok
    with psycopg.connect(database.admin_db_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM opscheck.secret_rotations WHERE secret_name = 'OPENROUTER_API_KEY'")
    result = rotation.not_far_overdue(t, "OPENROUTER_API_KEY")
    assert not result.ok and result.reason == "no rotation of OPENROUTER_API_KEY is recorded"
    assert result.cause is not None and "opscheck secrets rotated OPENROUTER_API_KEY" in result.cause.remedy


def test_secrets_rotated_records_name_time_operator_only(database: postgres.Database) -> None:
    _rotated(database, "VALR_API_KEY", 200)
    proc = _cli("secrets", "rotated", "VALR_API_KEY", "--by", "alice", env=_db_env(database))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "recorded: VALR_API_KEY rotated at" in proc.stdout and database.password not in proc.stdout
    t = live_target(_db_env(database), allow_mutations=False)
    assert rotation.not_far_overdue(t, "VALR_API_KEY").ok and rotation.within_period(t, "VALR_API_KEY").ok
    with psycopg.connect(database.admin_db_dsn) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'secret_rotations'"
            )
        ]
    assert sorted(columns) == ["id", "recorded_at", "rotated_at", "rotated_by", "secret_name"]
    for args in (
        ("NOT_A_SECRET", "--by", "bob"),
        ("VALR_API_KEY", "--by", " "),
        ("VALR_API_KEY", "--by", "b", "--at", "2020-01-01T00:00:00"),
    ):
        proc = _cli("secrets", "rotated", *args, env=_db_env(database))
        assert proc.returncode == 2 and proc.stderr.startswith("opscheck secrets rotated: cannot run:"), proc.stderr
