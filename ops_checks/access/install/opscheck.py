"""Install and inspect the suite's own schema ``opscheck`` (``opscheck init``).

The bot's role cannot create tables in ``public`` on Postgres 15, and the suite must not mix its records with
the bot's. So the suite's tables live in schema ``opscheck``, created by a role that may create (the
database owner or a superuser), with grants to the bot's role printed and applied.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import sql

SCHEMA_SQL = Path(__file__).with_name("opscheck_schema.sql")
SCHEMA = "opscheck"
VERSION = "2.0.0"
TABLES = (
    "ops_schema_version",
    "ops_signoffs",
    "secret_rotations",
    "ops_audit_inception",
    "ops_audit_retention",
    "ops_incidents",
    "ops_operator_actions",
    "ops_prevention_records",
)


class InitError(Exception):
    """The install failed; str() is a one-line reason."""


def grant_statements(role: str) -> list[sql.Composed]:
    """What the bot's role needs on the suite's schema: read, append, update incidents; never delete."""
    r = sql.Identifier(role)
    return [
        sql.SQL("GRANT USAGE ON SCHEMA opscheck TO {}").format(r),
        sql.SQL("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA opscheck TO {}").format(r),
        sql.SQL("GRANT UPDATE ON opscheck.ops_incidents TO {}").format(r),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA opscheck TO {}").format(r),
    ]


def install(dsn: str, *, grant_to: str | None) -> list[str]:
    """Create or upgrade the schema (idempotent) and grant ``grant_to``; return the statements run, as text."""
    done: list[str] = []
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as conn, conn.transaction():
            conn.execute(SCHEMA_SQL.read_text())
            done.append(f"applied {SCHEMA_SQL.name} (schema {SCHEMA}, version {VERSION})")
            if grant_to:
                for stmt in grant_statements(grant_to):
                    conn.execute(stmt)
                    done.append(stmt.as_string(conn))
    except psycopg.Error as exc:
        raise InitError(f"opscheck init failed: {str(exc).splitlines()[0]}") from exc
    return done


def grants_text(role: str) -> str:
    """The grant statements as SQL text, for an operator to run by hand (the same statements ``install`` runs,
    the role quoted as an identifier)."""
    return "\n".join(stmt.as_string(None) + ";" for stmt in grant_statements(role))


NOT_INSTALLED = "the suite's schema is missing — run `opscheck init`"
