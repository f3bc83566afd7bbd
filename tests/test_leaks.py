"""No secret, nor its first 8 characters, reaches anything a preflight leaves behind or prints.

Whole sandbox preflights (a passing run, and a failing run where signed HTTP exchanges are rejected among others)
run with distinctive secret values (``OPSCHECK_SANDBOX_<NAME>``); then every byte under the report directory
(verdict.json, junit.xml, allure-results, the HTML report, the manifest) and the captured terminal output is
searched for each secret and for its first 8 characters.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from ops_checks.report import html as report
from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import OVERRIDE_PREFIX
from tests.preflight_runner import REPO, Run, preflight

pytestmark = pytest.mark.slow

# letters that never occur in hex digests, uuids or timestamps, so a hit is a leak and not a coincidence
_ALPHABET = "ghijkmnpqrstuvwxyzGHJKLMNPQRSTUVWXYZ"


def canary(tag: str, length: int = 40) -> str:
    return tag + "".join(secrets.choice(_ALPHABET) for _ in range(length - len(tag)))


@pytest.fixture(scope="module")
def canaries() -> dict[str, str]:
    return {
        "VALR_API_KEY": canary("Kv"),
        "VALR_API_SECRET": canary("Sv", 64),
        "SOVEREIGN_SECRET": canary("Ps", 48),
        "WEBHOOK_SECRET": canary("Wh"),
        "GUARDIAN_RESET_CODE": canary("Rg", 24),
        "GUARDIAN_ADMIN_TOKEN": canary("Ga", 32),
        "OPENROUTER_API_KEY": canary("Or"),
        "DB_PASSWORD": canary("Dp", 32),
        "GRAFANA_TOKEN": canary("Gt", 32),
        "DISCORD_WEBHOOK_URL": f"https://discord.com/api/webhooks/4242/{canary('Dw', 48)}",
    }


def needles(canaries: dict[str, str], admin_dsn: str) -> dict[str, str]:
    """What must never appear: each value, its first 8 characters, and the token of the webhook URL."""
    found: dict[str, str] = {}
    for name, value in canaries.items():
        if name == "DISCORD_WEBHOOK_URL":
            found[name] = value
            value = value.rsplit("/", 1)[-1]
            name = "DISCORD_WEBHOOK_URL token"
        found[name] = value
        found[f"{name}[:8]"] = value[:8]
    admin_pw = str(conninfo_to_dict(admin_dsn).get("password") or "")
    if len(admin_pw) >= 12:  # the shared server's own (random hex) password: the whole value must not appear
        found["POSTGRES_PASSWORD"] = admin_pw
    return found


def leaks(run: Run, root: Path, search: dict[str, str]) -> list[str]:
    hits = [f"terminal output: {name}" for name, value in search.items() if value in run.output]
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files, "the run left no files"
    for path in files:
        data = path.read_bytes()
        hits += [f"{path.relative_to(root)}: {name}" for name, value in search.items() if value.encode() in data]
    return hits


def run_with(tmp_path: Path, env: dict[str, str], *args: str) -> Run:
    run = preflight(tmp_path, *args, env=env, timeout=300)
    assert run.verdict is not None, run.output[-3000:]
    assert run.run_dir is not None
    assert (run.run_dir / "junit.xml").exists() and (run.run_dir / "allure-results").is_dir()
    if report.find_allure(REPO) is not None:
        assert (run.run_dir / "html").is_dir(), run.output[-2000:]
    return run


@pytest.fixture(scope="module")
def leak_env(shared_pg_env: dict[str, str], canaries: dict[str, str]) -> dict[str, str]:
    return {**shared_pg_env, **{OVERRIDE_PREFIX + k: v for k, v in canaries.items()}}


def test_passing_run_leaks_nothing(
    tmp_path: Path, leak_env: dict[str, str], canaries: dict[str, str], shared_pg_env: dict[str, str]
) -> None:
    run = run_with(tmp_path, leak_env)
    assert run.verdict is not None and not run.failed("2."), run.output[-3000:]  # other areas may warn
    assert leaks(run, tmp_path, needles(canaries, shared_pg_env[postgres.DSN_ENV])) == []


def test_failing_run_leaks_nothing(
    tmp_path: Path, leak_env: dict[str, str], canaries: dict[str, str], shared_pg_env: dict[str, str]
) -> None:
    """One NO-GO run broken six ways: short and unchecked secrets, a refused Discord webhook and Postgres password,
    the bot in LIVE, and VALR answering -11252 (invalid signature) to every signed request, so the exchanges, with
    their X-VALR-API-KEY and X-VALR-SIGNATURE headers, are recorded as evidence of many failing items. (The six
    faults break separate items; one run instead of two saves a whole preflight and its report.)"""
    faults = (
        "sovereign_secret_short",
        "webhook_signature_unchecked",
        "discord_webhook_unauthorized",
        "postgres_password_wrong",
        "bot_running_live",
        "valr_secret_wrong",
    )
    run = run_with(tmp_path, leak_env, *(a for f in faults for a in ("--sandbox-fault", f)))
    assert run.verdict is not None and run.verdict["verdict"] == "NO-GO"
    assert {"2.1.2", "2.1.3", "2.1.4", "2.1.5", "2.1.8", "1.6.1"} <= run.failed(), run.status_of("2.1")
    reasons = " ".join(i["reason"] for i in run.verdict["items"])
    assert "-11252" in reasons
    assert leaks(run, tmp_path, needles(canaries, shared_pg_env[postgres.DSN_ENV])) == []
