"""No secret, nor its first 8 or 12 characters, nor its reverse, reaches anything a preflight leaves or prints.

Whole sandbox preflights (a passing run; a failing run where signed HTTP exchanges are rejected, VALR and the bot
echo credentials back and Discord's error names the webhook's token; and a selection where the Discord item fails
before any other item has looked at the webhook URL) run with distinctive secret values
(``OPSCHECK_SANDBOX_<NAME>``); then every byte under the report directory (verdict.json, junit.xml, cucumber.json,
allure-results, pytest.log, the HTML report, the manifest) and the captured terminal output is searched for each
secret, its first 8 and 12 characters and its reverse. Every folder and file of the run is private (0750/0640).
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
    """``tag`` (upper, lower), then an upper-case letter, random letters and "Zq": neither end reads like a word,
    so the redactor masks the secret's echoes (a prefix, the reverse), as it does for any random key."""
    return tag + "Z" + "".join(secrets.choice(_ALPHABET) for _ in range(length - len(tag) - 3)) + "Zq"


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
        # the query makes the URL differ from what an error names (scheme, host and path): only the token matches
        "DISCORD_WEBHOOK_URL": f"https://discord.com/api/webhooks/4242/{canary('Dw', 48)}?wait=true",
    }


def needles(canaries: dict[str, str], admin_dsn: str) -> dict[str, str]:
    """What must never appear: each value, its first 8 and 12 characters, its reverse, and the same of the token
    of the webhook URL."""
    found: dict[str, str] = {}
    for name, value in canaries.items():
        if name == "DISCORD_WEBHOOK_URL":
            found[name] = value
            value = value.rsplit("/", 1)[-1].split("?")[0]
            name = "DISCORD_WEBHOOK_URL token"
        found[name] = value
        found[f"{name}[:8]"] = value[:8]
        found[f"{name}[:12]"] = value[:12]
        found[f"{name} reversed"] = value[::-1]
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
    public = [p for p in [run.run_dir, *run.run_dir.rglob("*")] if p.stat().st_mode & 0o027]
    assert public == [], f"group-writable or world-readable: {public[:5]}"
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
    """One NO-GO run broken six ways: short and unchecked secrets, an unreachable Discord webhook (its error names
    the token) and a refused Postgres password, the bot in LIVE, and VALR answering -11252 (invalid signature) to
    every signed request, so the exchanges, with their X-VALR-API-KEY and X-VALR-SIGNATURE headers, are recorded as
    evidence of many failing items; and VALR and the bot echo the VALR key's first 12 characters and its reverse
    (and the guardian token's) in headers, bodies and error messages. (The six faults break separate items; one run
    instead of two saves a whole preflight and its report.)"""
    faults = (
        "sovereign_secret_short",
        "webhook_signature_unchecked",
        "discord_webhook_unreachable",
        "postgres_password_wrong",
        "bot_running_live",
        "credentials_echoed",
    )
    run = run_with(tmp_path, leak_env, *(a for f in faults for a in ("--sandbox-fault", f)))
    assert run.verdict is not None and run.verdict["verdict"] == "NO-GO"
    assert {"2.1.2", "2.1.3", "2.1.4", "2.1.5", "2.1.8", "1.6.1"} <= run.failed(), run.status_of("2.1")
    reasons = " ".join(i["reason"] for i in run.verdict["items"])
    assert "-11252" in reasons
    assert leaks(run, tmp_path, needles(canaries, shared_pg_env[postgres.DSN_ENV])) == []


def test_an_item_that_fails_before_any_other_saw_the_secret_leaks_nothing(
    tmp_path: Path, leak_env: dict[str, str], canaries: dict[str, str], shared_pg_env: dict[str, str]
) -> None:
    """§1.4 alone: 1.4.1 fails on the unreachable webhook before 2.1.8 (which looks at the URL's parts) runs, so the
    token must be known from the URL itself, in the child's summary (pytest.log) as everywhere else."""
    run = run_with(tmp_path, leak_env, "--features", "1_4*.feature", "--sandbox-fault", "discord_webhook_unreachable")
    assert run.verdict is not None and "1.4.1" in run.failed(), run.output[-3000:]
    reasons = " ".join(i["reason"] for i in run.verdict["items"])
    assert "webhooks/4242/" in reasons  # the error names the URL: its token is masked, not the whole message
    assert leaks(run, tmp_path, needles(canaries, shared_pg_env[postgres.DSN_ENV])) == []
