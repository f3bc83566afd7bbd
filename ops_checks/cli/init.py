"""``opscheck init``: create (or upgrade) the suite's own schema ``opscheck`` in the bot's database.

The bot's role cannot create tables (Postgres 15 revokes CREATE on public; TRADE_BOT's migrations grant it none),
so init connects as a role that may create: ``OPSCHECK_ADMIN_DSN`` (a libpq DSN or URL) when set, else
``POSTGRES_USER`` (default postgres) with ``POSTGRES_PASSWORD`` on the bot's database (``DB_HOST``/``DB_PORT``/
``DB_NAME`` or ``DATABASE_URL``'s host, port and database). It then grants the bot's role (``--role``, else
``BOT_DB_USER``, else ``DB_USER``, else app_trading) what the suite's records need: read and append, update an
incident, never delete. Idempotent: running it again changes nothing.

Exit 0 installed (or already installed), 1 the database refused (no privilege), 2 cannot run (an unreadable env
file, a bad setting, a database it cannot connect to).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ops_checks.access.config import ConfigError, live_target, load_env
from ops_checks.access.install import opscheck
from ops_checks.cli import errors
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret

ADMIN_DSN_ENV = "OPSCHECK_ADMIN_DSN"


def admin_dsn(env: Mapping[str, str]) -> str:
    """The DSN of a role that may create the schema (see the module docstring); ConfigError when unusable."""
    if env.get(ADMIN_DSN_ENV):
        try:
            params = conninfo_to_dict(env[ADMIN_DSN_ENV])
        except psycopg.Error as exc:
            raise ConfigError(f"{ADMIN_DSN_ENV} is not a valid libpq DSN or URL") from exc
        params.setdefault("connect_timeout", "5")
        return make_conninfo("", **params)
    db = live_target(env, allow_mutations=True).db
    return make_conninfo(
        host=db.host,
        port=db.port,
        dbname=db.name,
        user=env.get("POSTGRES_USER") or "postgres",
        password=env.get("POSTGRES_PASSWORD") or None,
        connect_timeout=5,
        application_name="opscheck init",
    )


def bot_role(env: Mapping[str, str], role: str | None) -> str:
    if role:
        return role
    if env.get("BOT_DB_USER"):
        return env["BOT_DB_USER"]
    if env.get("DATABASE_URL") and not env.get("DB_USER"):
        return live_target(env, allow_mutations=False).db.user
    return env.get("DB_USER") or "app_trading"


def installed_version(dsn: str) -> str | None:
    """The installed schema version, or None when the suite's schema is missing."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass('opscheck.ops_schema_version') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return None
        version = conn.execute("SELECT max(version) FROM opscheck.ops_schema_version").fetchone()
        return str(version[0]) if version and version[0] else None


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]


def init_cmd(
    env_file: Annotated[Path | None, typer.Option("--env-file", help="dotenv file with the live settings")] = None,
    role: Annotated[
        str | None, typer.Option(help="the bot's database role to grant (default BOT_DB_USER, DB_USER, app_trading)")
    ] = None,
    print_sql: Annotated[bool, typer.Option("--print-sql", help="print the SQL only; connect to nothing")] = False,
) -> None:
    """Create the suite's schema `opscheck` (versioned, idempotent) and grant the bot's role its records."""
    try:
        env = load_env(env_file)
        grantee = bot_role(env, role)
        dsn = "" if print_sql else admin_dsn(env)
    except ConfigError as exc:
        raise errors.cannot_run(str(exc)) from None
    if print_sql:
        typer.echo(opscheck.SCHEMA_SQL.read_text(encoding="utf-8").rstrip())
        typer.echo(f"\n-- grants to the bot's role {grantee}\n{opscheck.grants_text(grantee)}")
        return
    redactor = Redactor(
        [Secret(env.get(n, "")) for n in ("POSTGRES_PASSWORD", "DB_PASSWORD")]
        + [Secret(str(conninfo_to_dict(dsn).get("password") or ""))]
    )
    try:
        psycopg.connect(dsn, autocommit=True).close()
    except psycopg.Error as exc:
        raise errors.cannot_run(f"cannot connect as the schema's owner: {redactor.text(_first(exc))}") from None
    try:
        before = installed_version(dsn)
        done = opscheck.install(dsn, grant_to=grantee)
    except (psycopg.Error, opscheck.InitError) as exc:
        raise errors.failed(redactor.text(_first(exc))) from None
    state = (
        "already installed, verified"
        if before == opscheck.VERSION
        else (f"upgraded from {before}" if before else "installed")
    )
    typer.echo(f"schema {opscheck.SCHEMA} version {opscheck.VERSION}: {state}")
    typer.echo(f"grants to {grantee} (applied):")
    for line in done[1:]:
        typer.echo(f"  {line};")
