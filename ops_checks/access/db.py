"""Postgres access for checks: short timeouts, read-only sessions on live, parameterised SQL only,
and every query kept as evidence (the SQL and the rows it returned)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ops_checks.access.config import DbParams
from ops_checks.core.redaction import Redactor
from ops_checks.core.result import Evidence

STATEMENT_TIMEOUT_MS = 5000

# a query's parameters: positional (``%s``) or named (``%(name)s``)
Params = Sequence[Any] | Mapping[str, Any]


class DbError(Exception):
    """A database problem, as a one-line reason."""


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


@dataclass
class QueryLog:
    """The SQL run by one check and the rows it returned, rendered as evidence."""

    redactor: Redactor
    entries: list[str]

    def add(self, sql: str, params: Params | None, rows: list[dict[str, Any]] | None, error: str = "") -> None:
        lines = [sql.strip()]
        if params:
            shown = dict(params) if isinstance(params, Mapping) else list(params)  # named: names and values
            lines.append(f"-- params: {self.redactor.text(repr(shown))}")
        if error:
            lines.append(f"-- ERROR: {error}")
        elif rows is not None:
            lines.append(f"-- {len(rows)} row(s)")
            for row in rows[:50]:
                lines.append("-- " + self.redactor.text(", ".join(f"{k}={v}" for k, v in row.items())))
            if len(rows) > 50:
                lines.append(f"-- ... {len(rows) - 50} more")
        self.entries.append("\n".join(lines))

    def evidence(self, name: str = "SQL and rows") -> Evidence:
        return Evidence(name, "\n\n".join(self.entries), "text/plain")


class Db:
    """One connection for one check. ``read_only`` sessions cannot write, whatever the SQL says."""

    def __init__(self, conn: psycopg.Connection[dict[str, Any]], log: QueryLog) -> None:
        self.conn = conn
        self.log = log

    def rows(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, params)
                rows = cur.fetchall() if cur.description else []
        except psycopg.Error as exc:
            self.log.add(sql, params, None, one_line(exc))
            if not self.conn.autocommit:
                self.conn.rollback()
            raise DbError(one_line(exc)) from exc
        self.log.add(sql, params, rows)
        return rows

    def one(self, sql: str, params: Params | None = None) -> dict[str, Any] | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def first(self, sql: str, params: Params | None = None) -> dict[str, Any]:
        """The row of a query that always returns one (``SELECT to_regclass(…)``, ``SELECT clock_timestamp()``);
        DbError when it returned none."""
        row = self.one(sql, params)
        if row is None:
            raise DbError("the query returned no row")
        return row


_TIMED_OUT: dict[str, str] = {}  # servers whose connect timed out in this process: later attempts fail at once


@contextmanager
def connect(
    params: DbParams,
    redactor: Redactor,
    *,
    read_only: bool | None = None,
    log: QueryLog | None = None,
    extra_options: str = "",
) -> Iterator[Db]:
    """Connect with a 3 s connect timeout and a 5 s statement timeout; raises DbError with a one-line reason."""
    ro = params.read_only if read_only is None else read_only
    # search_path: the bot's tables in public, the suite's own tables in schema opscheck (`opscheck init`).
    options = f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c TimeZone=UTC -c search_path=public,opscheck"
    if ro:
        options += " -c default_transaction_read_only=on"
    if extra_options:
        options += " " + extra_options
    server = f"{params.host}:{params.port}"
    if server in _TIMED_OUT:
        raise DbError(f"cannot connect to {params.describe()}: {_TIMED_OUT[server]}")
    try:
        conn = psycopg.connect(params.dsn(), autocommit=True, row_factory=dict_row, options=options)
    except psycopg.Error as exc:
        reason = redactor.text(one_line(exc))
        if "timeout expired" in reason:
            _TIMED_OUT[server] = f"{reason} (earlier in this run; not retried)"
        raise DbError(f"cannot connect to {params.describe()}: {reason}") from exc
    try:
        yield Db(conn, log or QueryLog(redactor, []))
    finally:
        conn.close()
