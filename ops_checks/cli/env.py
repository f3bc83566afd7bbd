"""``opscheck env verify`` (runbook §2.3's verify_env.sh, without printing any part of a secret) and
``opscheck secrets rotated NAME --by OPERATOR`` (runbook §2.4's rotation record).

``env verify`` checks presence and shape, locally and quickly: one PASS/FAIL (or WARN, for the runbook's
recommendations) line per variable with the reason, never the value; exit 0 when every line passes, 1 when any
FAILs (the summary counts them), 2 when it cannot run (unreadable env file, a bad setting such as an
``OPSCHECK_`` threshold or ``DB_PORT``). ``opscheck preflight -m "section_2_1"`` proves each secret with the
service that consumes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn
from urllib.parse import urlsplit

import typer

from ops_checks.access.config import SECRET_VARS, ConfigError, Target, live_target, load_env
from ops_checks.catalogue.rotation_periods import ROTATION_ROWS
from ops_checks.checks.s2_environment import gates
from ops_checks.checks.s2_environment.rotation import RotationError, record_rotation
from ops_checks.checks.s2_environment.secrets_check import SOVEREIGN_MIN_LENGTH, placeholder_problem
from ops_checks.cli import errors
from ops_checks.core import settings
from ops_checks.core.result import CheckResult

EXIT_OK, EXIT_FAILED, EXIT_CANNOT_RUN = 0, 1, 2

app = typer.Typer(add_completion=False)
env_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Environment variables (runbook §2).")
secrets_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Secret rotation record (runbook §2.4).")
app.add_typer(env_app, name="env")
app.add_typer(secrets_app, name="secrets")


@dataclass(frozen=True)
class Line:
    status: str  # PASS | FAIL | WARN
    name: str
    reason: str


Check = Callable[[Target], Line]


def _secret(name: str, min_length: int = 0) -> Check:
    def check(t: Target) -> Line:
        value = t.secret(name)
        problem = placeholder_problem(name, value)
        if problem:
            return Line("FAIL", name, problem)
        if len(value) < min_length:
            return Line("FAIL", name, f"must be at least {min_length} characters (has {len(value)})")
        return Line("PASS", name, f"set ({len(value)} characters)")

    return check


def _plain(name: str, *, alt: str | None = None) -> Check:
    def check(t: Target) -> Line:
        if t.value(name):
            return Line("PASS", name, "set")
        if alt and t.value(alt):
            return Line("PASS", name, f"not set; {alt} is used instead")
        return Line("FAIL", name, "not set")

    return check


def _db_password(t: Target) -> Line:
    if not t.secret("DB_PASSWORD") and t.value("DATABASE_URL"):
        return Line("PASS", "DB_PASSWORD", "not set; the password in DATABASE_URL is used instead")
    return _secret("DB_PASSWORD")(t)


def _discord(t: Target) -> Line:
    url = t.secret("DISCORD_WEBHOOK_URL")
    if not url:
        return Line("FAIL", "DISCORD_WEBHOOK_URL", "not set")
    parts = urlsplit(url.reveal())
    if parts.scheme != "https" or not parts.hostname:
        return Line("FAIL", "DISCORD_WEBHOOK_URL", "not an https URL")
    return Line("PASS", "DISCORD_WEBHOOK_URL", "an https URL (the preflight posts a test message: 2.1.8)")


def _gate(name: str, check: Callable[[Target], CheckResult], *, warn: bool = False) -> Check:
    def run(t: Target) -> Line:
        result = check(t)
        return Line("PASS" if result.ok else ("WARN" if warn else "FAIL"), name, result.reason)

    return run


def _limit(name: str) -> Check:
    def check(t: Target) -> Line:
        values, problems = gates.parse_limits(t)
        mine = [p for p in problems if p.startswith(name + " ")]
        if mine:
            return Line("FAIL", name, mine[0].removeprefix(name + " "))
        line = Line("PASS", name, f"R{values[name]}")
        if name == "MAX_ORDER_ZAR" and "MAX_RISK_ZAR" in values and values[name] > values["MAX_RISK_ZAR"]:
            return Line("FAIL", name, f"R{values[name]} exceeds MAX_RISK_ZAR R{values['MAX_RISK_ZAR']}")
        return line

    return check


CHECKS: tuple[tuple[str, tuple[Check, ...]], ...] = (
    ("Exchange Credentials", (_secret("VALR_API_KEY"), _secret("VALR_API_SECRET"))),
    (
        "Security Secrets",
        (_secret("SOVEREIGN_SECRET", SOVEREIGN_MIN_LENGTH), _secret("WEBHOOK_SECRET"), _secret("GUARDIAN_RESET_CODE")),
    ),
    (
        "Database",
        (
            _secret("POSTGRES_PASSWORD"),
            _db_password,
            _plain("DB_HOST", alt="DATABASE_URL"),
            _plain("DB_NAME", alt="DATABASE_URL"),
        ),
    ),
    (
        "Trading Configuration",
        (
            _gate("EXECUTION_MODE", gates.execution_mode),
            _gate("LIVE_TRADING_CONFIRMED", gates.live_trading_confirmed),
            _gate("KILL_SWITCH_ENABLED", gates.kill_switch_enabled),
            _gate("BUDGETGUARD_STRICT_MODE", gates.budgetguard_strict, warn=True),
            _limit("MAX_ORDER_ZAR"),
            _limit("MAX_RISK_ZAR"),
            _limit("ZAR_FLOOR"),
        ),
    ),
    ("Notifications", (_discord, _secret("OPENROUTER_API_KEY"))),
)


def verify(t: Target) -> list[tuple[str, list[Line]]]:
    """Every group of verify_env.sh with one line per variable; no value ever enters a line."""
    return [(group, [check(t) for check in checks]) for group, checks in CHECKS]


def render(groups: list[tuple[str, list[Line]]], mode: str) -> tuple[str, int]:
    out = ["=" * 44, f"Environment Variable Verification ({mode} preflight)", "=" * 44]
    failures = 0
    for group, lines in groups:
        out += ["", f"--- {group} ---"]
        for line in lines:
            failures += line.status == "FAIL"
            out.append(f"{line.status} {line.name} — {line.reason}")  # no ":" after a name: the redactor masks it
    out += ["", "=" * 44]
    out.append("ALL CHECKS PASSED" if not failures else f"{failures} CHECKS FAILED - DO NOT PROCEED TO LIVE")
    out.append("=" * 44)
    return "\n".join(out), failures


@contextmanager
def _target(target: str, env_file: Path | None) -> Iterator[Target]:
    if target == "live":
        yield live_target(load_env(env_file), allow_mutations=False)
        return
    if env_file is not None:
        raise ConfigError("--env-file applies to --target live only")
    settings.check(os.environ)  # as the preflight does: a bad OPSCHECK_ setting is exit 2 on either target
    from ops_checks.sandbox.environment import Sandbox  # lazy: starts Postgres and the reference bot

    with Sandbox() as sb:
        assert sb.target is not None
        yield sb.target


@env_app.command("verify")
def env_verify(
    target: Annotated[str, typer.Option(help="live (default: the environment and --env-file) or sandbox")] = "live",
    env_file: Annotated[Path | None, typer.Option("--env-file", help="dotenv file (env vars override it)")] = None,
) -> None:
    """verify_env.sh without printing any part of a secret: one PASS/FAIL line per variable."""
    if target not in ("live", "sandbox"):
        _cannot_run(f"--target must be live or sandbox, not {target!r}")
    try:
        with _target(target, env_file) as t:
            text, failures = render(verify(t), gates.expected_mode(t))
            text = t.redactor.text(text)
    except ConfigError as exc:
        _cannot_run(str(exc))
    typer.echo(text)
    raise typer.Exit(EXIT_FAILED if failures else EXIT_OK)


KNOWN_SECRETS = tuple(dict.fromkeys((*ROTATION_ROWS, *SECRET_VARS)))


@secrets_app.command("rotated")
def secrets_rotated(
    name: Annotated[str, typer.Argument(help=f"the secret rotated: {', '.join(ROTATION_ROWS)} …")],
    by: Annotated[str, typer.Option("--by", help="operator who rotated it")],
    at: Annotated[str | None, typer.Option("--at", help="when (ISO-8601 with zone; default now)")] = None,
    env_file: Annotated[Path | None, typer.Option("--env-file", help="dotenv file with the DB settings")] = None,
) -> None:
    """Record that a secret was rotated (its name, the time, the operator; never the value)."""
    if name not in KNOWN_SECRETS:
        _cannot_run(f"unknown secret {name!r}; one of {', '.join(KNOWN_SECRETS)}")
    try:
        when = datetime.fromisoformat(at) if at else None
    except ValueError:
        _cannot_run("--at is not an ISO-8601 time")
    try:
        t = live_target(load_env(env_file), allow_mutations=True)
        recorded = record_rotation(t.db, t.redactor, name, by, when)  # a database it cannot reach: cannot run
    except (ConfigError, RotationError) as exc:
        _cannot_run(str(exc))
    typer.echo(f"recorded: {name} rotated at {recorded.isoformat()} by {by.strip()} ({t.db.describe()})")


def _cannot_run(message: str) -> NoReturn:
    raise errors.cannot_run(message)
