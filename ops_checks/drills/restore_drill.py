"""sop.weekly.4 "Test backup systems": a backup is only a backup once it has been restored.

The drill (sandbox, or wherever a disposable database on the same server can be made): every audit table of the bot
(its hash-chained tables, as the database declares them: ``ops_checks.access.audit_tables``) is dumped with
``COPY … TO STDOUT`` (CSV, rows in a canonical order, SHA-256 per file; DESIGN.md §8.5), loaded into a disposable
database built from the reference schema with ``COPY … FROM STDIN`` (the columns named by the dump's header), dumped
again from there the same way, and compared table by table: row counts and SHA-256. The drill is recorded in
``ops_prevention_records`` (activity ``restore_drill``), passed or failed.
On live the check is read-only: the latest recorded restore drill passed within the last 7 days.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ops_checks.access import audit_tables
from ops_checks.access.config import DbParams, Target
from ops_checks.access.db import Db, DbError, QueryLog, connect, one_line
from ops_checks.checks.sop import records
from ops_checks.core.result import CheckResult, Evidence, failed, passed
from ops_checks.procedures.backup import stream_copy
from ops_checks.sandbox import postgres

DRILL_DAYS = 7
ACTIVITY = "restore_drill"
DR_ACTIVITY = "dr_drill"
DR_DRILL_DAYS = 31
EXPECTED = "audit tables restored: row counts and SHA-256 match"
CHUNK = 1 << 16

_COLUMNS = """
SELECT column_name FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position"""


@dataclass(frozen=True)
class TableCopy:
    table: str
    source_rows: int
    source_sha256: str
    restored_rows: int
    restored_sha256: str

    @property
    def matches(self) -> bool:
        return (self.source_rows, self.source_sha256) == (self.restored_rows, self.restored_sha256)

    def line(self) -> str:
        verdict = "match" if self.matches else "MISMATCH"
        return (
            f"{self.table}: {self.source_rows} rows sha256 {self.source_sha256[:16]} -> restored "
            f"{self.restored_rows} rows sha256 {self.restored_sha256[:16]}: {verdict}"
        )


def canonical_query(table: str, columns: list[str]) -> sql.Composable:
    """``SELECT cols FROM table ORDER BY ROW(cols)::text``: the same rows give the same bytes on any database."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    return sql.SQL("SELECT {c} FROM {t} ORDER BY (ROW({c}))::text").format(c=cols, t=sql.Identifier(table))


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])


def restore_file(db: Db, table: str, path: Path) -> int:
    """``COPY table (header columns) FROM STDIN`` from a CSV dump; returns the rows loaded; raises DbError."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in _header(path))
    stmt = sql.SQL("COPY {t} ({c}) FROM STDIN WITH CSV HEADER").format(t=sql.Identifier(table), c=cols)
    try:
        with db.conn.cursor() as cur, cur.copy(stmt) as copy, path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                copy.write(chunk)
        rows = max(cur.rowcount, 0)
    except psycopg.Error as exc:
        raise DbError(f"{table}: {one_line(exc)}") from exc
    db.log.add(stmt.as_string(db.conn), None, [{"rows": rows}])
    return rows


def drill(t: Target, restore: DbParams | str, workdir: Path) -> list[TableCopy]:
    """Dump the audit tables of ``t``, restore them into ``restore``, dump them back; raises DbError / OSError.

    ``restore`` as an owner's DSN restores as ``pg_restore --disable-triggers`` does (session_replication_role =
    replica): the bot's tables keep their stored row hashes, and rows load whatever the foreign-key order."""
    (workdir / "source").mkdir(parents=True, exist_ok=True)
    (workdir / "restored").mkdir(parents=True, exist_ok=True)
    dumped: dict[str, tuple[list[str], int, str]] = {}
    with connect(t.db, t.redactor, read_only=True) as src:
        tables = [a.name for a in audit_tables.discover(src)]
        if not tables:
            raise DbError(audit_tables.none_found(t.db.describe()))
        for table in tables:
            columns = [r["column_name"] for r in src.rows(_COLUMNS, (table,))]
            if not columns:
                raise DbError(f"{table}: missing from the database")
            rows, digest = stream_copy(src, canonical_query(table, columns), workdir / "source" / f"{table}.csv")
            dumped[table] = (columns, rows, digest)
    out = []
    with _restore_session(restore, t) as dst:
        for table, (columns, rows, digest) in dumped.items():
            restore_file(dst, table, workdir / "source" / f"{table}.csv")
            back_rows, back = stream_copy(dst, canonical_query(table, columns), workdir / "restored" / f"{table}.csv")
            out.append(TableCopy(table, rows, digest, back_rows, back))
    return out


def judge(copies: list[TableCopy]) -> CheckResult:
    if not copies:
        return failed("nothing restored", EXPECTED, "the restore drill restored no table")
    listing = Evidence("restore drill: source vs restored", "\n".join(c.line() for c in copies))
    bad = [c.table for c in copies if not c.matches]
    rows = sum(c.source_rows for c in copies)
    if bad:
        return failed(
            f"{len(bad)} table(s) differ",
            EXPECTED,
            f"restored backup differs from the source: {', '.join(bad)}",
            listing,
        )
    observed = f"{len(copies)} audit tables, {rows} rows restored; counts and SHA-256 match"
    return passed(observed, EXPECTED, observed, listing)


def run_on_server(t: Target, server: postgres.Server, workdir: Path, by: str) -> CheckResult:
    """The drill into a disposable database on ``server`` (built from the reference schema, dropped afterwards),
    recorded on ``t`` whatever its outcome."""
    try:
        with _disposable(server) as restore:
            result = judge(drill(t, restore, workdir))
    except (DbError, postgres.ProvisionError, OSError) as exc:
        first = str(exc).strip().splitlines()
        result = failed(
            "restore failed",
            EXPECTED,
            f"backup restore failed: {t.redactor.text(first[0] if first else type(exc).__name__)}",
        )
    details = {"observed": str(result.observed), "reason": result.reason}
    try:
        records.record(t, ACTIVITY, "audit tables (COPY dump)", by, result.ok, details)
    except DbError as exc:
        return failed("not recorded", EXPECTED, f"restore drill not recorded: {exc}", *result.evidence)
    return result


@contextmanager
def _restore_session(restore: DbParams | str, t: Target) -> Iterator[Db]:
    if isinstance(restore, DbParams):
        with connect(restore, t.redactor, read_only=False) as db:
            yield db
        return
    try:
        conn = psycopg.connect(restore, autocommit=True, row_factory=dict_row, options="-c TimeZone=UTC")
        conn.execute("SET session_replication_role = replica")
    except psycopg.Error as exc:
        raise DbError(f"cannot open the restore database: {one_line(exc)}") from exc
    try:
        yield Db(conn, QueryLog(t.redactor, []))
    finally:
        conn.close()


@contextmanager
def _disposable(server: postgres.Server) -> Iterator[str]:
    """A database from the reference schema, unseeded; its owner's DSN (a restore runs as the owner)."""
    db = postgres.create_database(server, seed=False)
    try:
        yield db.admin_db_dsn
    finally:
        postgres.drop_database(db)


def recorded(t: Target) -> CheckResult:
    """Live (read-only): the latest recorded restore drill passed within DRILL_DAYS."""
    return records.recent(t, ACTIVITY, "backup restore drill", DRILL_DAYS)


def check(
    t: Target, server: postgres.Server | None, workdir: Path | None, by: str = "opscheck preflight"
) -> CheckResult:
    """sop.weekly.4: the drill where a disposable database can be made (sandbox), else the recorded drill."""
    if server is None or workdir is None:
        return recorded(t)
    return run_on_server(t, server, workdir, by)


class Site(NamedTuple):
    """Where the drill can make its disposable database (``check``'s ``server`` and ``workdir``): the sandbox's
    Postgres server and a working directory for the dumps. Live has neither (``NOWHERE``): the recorded drill is
    checked instead."""

    server: postgres.Server | None
    workdir: Path | None


NOWHERE = Site(None, None)


def dr_drill_recorded(t: Target) -> CheckResult:
    """sop.monthly.3 (both targets, read-only): the latest recorded disaster-recovery drill passed within 31 days.
    A DR drill rebuilds the system from backups end to end; it is an operator's exercise, recorded as ``dr_drill``."""
    return records.recent(t, DR_ACTIVITY, "disaster recovery drill", DR_DRILL_DAYS)
