"""The suite's own tables (schema ``opscheck``, created by ``opscheck init``): when they are missing, every item
that rests on them is *not verified: run `opscheck init`* — never an SQL error, never an empty pass.

Use one of:
- ``problem(t, "ops_incidents")`` in a ``Given`` step (``require``): the item is not verified, with ``CAUSE``;
- ``problem = missing(db, "ops_incidents")`` before reading; ``None`` when installed, else the one-line reason;
- ``reason = not_installed_reason(exc)`` on a ``DbError``/``psycopg.Error``: the same reason when the error is an
  undefined suite table, else ``None`` (the error is then a real one, reported as such).
``not_installed(...)`` builds the failed ``CheckResult`` of the item that owns the problem, ``unverifiable(...)`` the
not-verified one of an item that merely rests on the tables; both carry ``CAUSE``, so they are one cause in the
verdict, with its remedy.
"""

from __future__ import annotations

import re
from typing import Any

from ops_checks.access.config import Target
from ops_checks.access.db import Db, DbError, connect
from ops_checks.access.install.opscheck import NOT_INSTALLED, SCHEMA, TABLES
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified

#: every item that rests on the suite's tables shares this one cause when they are missing
CAUSE = Cause(
    "suite_schema",
    f"schema {SCHEMA}",
    f"the suite's own tables (schema {SCHEMA}) are missing: `opscheck init` never ran on this database",
    "opscheck init --env-file <the env file> (as a role that may create the schema: OPSCHECK_ADMIN_DSN), then re-run",
)
DATABASE_ITEM = "1.1.1"  # the item that owns an unreachable database

_UNDEFINED = re.compile(r'relation "(?:opscheck\.)?([a-z_]+)" does not exist')


def reason(tables: list[str] | tuple[str, ...]) -> str:
    """The one-line reason for missing suite tables."""
    return f"{NOT_INSTALLED} (missing: {', '.join(f'{SCHEMA}.{t}' for t in tables)})"


def missing(db: Db, *tables: str) -> str | None:
    """``None`` when every named suite table exists in schema ``opscheck``; else the not-installed reason."""
    names = tables or TABLES
    absent = [
        name for name in names if db.first("SELECT to_regclass(%s) IS NULL AS absent", (f"{SCHEMA}.{name}",))["absent"]
    ]
    return reason(absent) if absent else None


def problem(t: Target, *tables: str) -> CheckResult | None:
    """For a ``Given`` precondition (``require``): the not-verified result when the suite's tables are unusable
    (they are missing: ``CAUSE``; or the database cannot be read: resting on 1.1.1), else ``None``."""
    try:
        with connect(t.db, t.redactor) as db:
            why = missing(db, *tables)
    except DbError as exc:
        return not_verified(f"the database cannot be read: {exc}", blocked_by=(DATABASE_ITEM,))
    return not_verified(why, cause=CAUSE) if why else None


def not_installed_reason(exc: BaseException | str) -> str | None:
    """The not-installed reason when ``exc`` is an undefined *suite* table (not a bot table); else ``None``."""
    m = _UNDEFINED.search(str(exc))
    if m and m.group(1) in TABLES:
        return reason([m.group(1)])
    return None


def not_installed(why: str, expected: Any, *evidence: Evidence) -> CheckResult:
    """The failed result of the item that owns missing suite tables (``CAUSE``)."""
    return failed("suite schema not installed", expected, why, *evidence, cause=CAUSE)


def unverifiable(why: str, expected: Any, *evidence: Evidence) -> CheckResult:
    """The not-verified result of an item that only rests on missing suite tables (``CAUSE``)."""
    return not_verified(why, *evidence, cause=CAUSE, expected=expected)
