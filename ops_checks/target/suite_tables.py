"""The suite's own tables (schema ``opscheck``, created by ``opscheck init``): when they are missing, every item
that rests on them is *not verified: run `opscheck init`* — never an SQL error, never an empty pass.

Use one of:
- ``problem(t, "ops_incidents")`` in a ``Given`` step (``require``): the item is skipped as not verified;
- ``problem = missing(db, "ops_incidents")`` before reading; ``None`` when installed, else the one-line reason;
- ``reason = not_installed_reason(exc)`` on a ``DbError``/``psycopg.Error``: the same reason when the error is an
  undefined suite table, else ``None`` (the error is then a real one, reported as such).
``not_installed(...)`` builds the failed ``CheckResult`` (a failed blocker: NO-GO, reason starting "not verified").
"""

from __future__ import annotations

import re
from typing import Any

from ops_checks.core.result import CheckResult, Evidence, failed
from ops_checks.target.config import Target
from ops_checks.target.db import Db, DbError, connect
from ops_checks.target.install.opscheck import NOT_INSTALLED, SCHEMA, TABLES

_UNDEFINED = re.compile(r'relation "(?:opscheck\.)?([a-z_]+)" does not exist')


def reason(tables: list[str] | tuple[str, ...]) -> str:
    """The one-line reason for missing suite tables."""
    return f"{NOT_INSTALLED} (missing: {', '.join(f'{SCHEMA}.{t}' for t in tables)})"


def missing(db: Db, *tables: str) -> str | None:
    """``None`` when every named suite table exists in schema ``opscheck``; else the not-installed reason."""
    names = tables or TABLES
    absent = [
        name
        for name in names
        if db.one("SELECT to_regclass(%s) IS NULL AS absent", (f"{SCHEMA}.{name}",))["absent"]  # type: ignore[index]
    ]
    return reason(absent) if absent else None


def problem(t: Target, *tables: str) -> str | None:
    """For a ``Given`` precondition (``require`` adds "not verified: "): why the suite's tables are unusable (they
    are missing, or the database cannot be read), else ``None``."""
    try:
        with connect(t.db, t.redactor) as db:
            why = missing(db, *tables)
    except DbError as exc:
        return f"database unreadable: {exc}"
    return why.removeprefix("not verified: ") if why else None


def not_installed_reason(exc: BaseException | str) -> str | None:
    """The not-installed reason when ``exc`` is an undefined *suite* table (not a bot table); else ``None``."""
    m = _UNDEFINED.search(str(exc))
    if m and m.group(1) in TABLES:
        return reason([m.group(1)])
    return None


def not_installed(why: str, expected: Any, *evidence: Evidence) -> CheckResult:
    """A failed (not verified) result for an item whose suite tables are missing."""
    return failed("suite schema not installed", expected, why, *evidence)
