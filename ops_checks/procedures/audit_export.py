"""Runbook §7.2 Full Audit Export, done safely: each of the bot's audit tables (its hash-chained tables, read from
the database: ``ops_checks.access.audit_tables``) streamed with ``COPY … TO STDOUT WITH CSV HEADER``
through psycopg (no ``docker exec -it``, so LF line ends: DESIGN.md §8.5), in constant memory, hashed while written.

The export is one REPEATABLE READ read-only transaction (every file from the same snapshot), over a half-open UTC
range ``[start, end)``. It is written into a hidden temporary directory beside the target and renamed into place
only when complete: an interrupted or failed export leaves no directory at the target and no partial one.
``CHECKSUMS.sha256`` uses names relative to the directory: ``cd DIR && sha256sum -c CHECKSUMS.sha256``.
"""

from __future__ import annotations

import hashlib
import os
import queue
import shutil
import tempfile
import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from ops_checks.access import audit_tables
from ops_checks.access.audit_tables import BY_TABLE, AuditTable
from ops_checks.access.config import DbParams
from ops_checks.access.db import one_line
from ops_checks.core.redaction import Redactor

MANIFEST = "MANIFEST.txt"
CHECKSUMS = "CHECKSUMS.sha256"
FLUSH_BYTES = 1 << 20  # rows are gathered into 1 MiB blocks before hashing and writing
QUEUE_BLOCKS = 32  # blocks in flight between the reader and the writer thread (absorbs the periodic syncs)
SYNC_BYTES = 64 << 20  # written data is synced to disk every 64 MiB
EXPORT_STATEMENT_TIMEOUT_MS = 6 * 3600 * 1000  # one COPY of years of data may legitimately take long
KEEPALIVES: dict[str, int] = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


class ExportError(Exception):
    """The export failed; str() is a one-line reason. Nothing was left at the target. ``table`` and ``error``:
    the table the database refused to export and its one-line error (for a structured cause), when that is what
    failed."""

    def __init__(self, reason: str, *, table: str | None = None, error: str = "") -> None:
        super().__init__(reason)
        self.table = table
        self.error = error


@dataclass(frozen=True)
class ExportedFile:
    name: str
    table: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    start: datetime
    end: datetime
    exported_at: datetime
    operator: str
    database: str
    schema_version: str | None
    files: tuple[ExportedFile, ...]

    @property
    def total_rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def empty(self) -> bool:
        return self.total_rows == 0

    def summary(self) -> str:
        head = f"{len(self.files)} files, {self.total_rows} rows, {sum(f.bytes for f in self.files)} bytes"
        return head + (" (no rows in range: headers only)" if self.empty else "")


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


WHOLE = "%s::timestamptz IS NOT NULL AND %s::timestamptz IS NOT NULL"  # the range, bound and compared with nothing


def copy_statement(table: AuditTable) -> sql.Composed:
    """The runbook's query, with identifiers quoted and the range as parameters (bound client-side by psycopg).
    A table without a time column is exported whole (the range is still bound, and compared with nothing)."""
    key = sql.SQL(", ").join(sql.Identifier(c) for c in table.key)
    if not table.time_column:
        return sql.SQL(
            f"COPY (SELECT * FROM {{t}} WHERE {WHOLE} ORDER BY {{k}}) TO STDOUT WITH (FORMAT csv, HEADER true)"
        ).format(t=sql.Identifier(table.name), k=key)
    return sql.SQL(
        "COPY (SELECT * FROM {t} WHERE {c} >= %s AND {c} < %s ORDER BY {c}, {k}) "
        "TO STDOUT WITH (FORMAT csv, HEADER true)"
    ).format(t=sql.Identifier(table.name), c=sql.Identifier(table.time_column), k=key)


def count_statement(table: AuditTable) -> sql.Composed:
    """The rows of ``table`` an export over ``[%s, %s)`` holds (the whole table when it has no time column)."""
    if not table.time_column:
        return sql.SQL(f"SELECT count(*) FROM {{t}} WHERE {WHOLE}").format(t=sql.Identifier(table.name))
    return sql.SQL("SELECT count(*) FROM {t} WHERE {c} >= %s AND {c} < %s").format(
        t=sql.Identifier(table.name), c=sql.Identifier(table.time_column)
    )


class HashingWriter:
    """Writes blocks to a file and feeds the same bytes to SHA-256: what is hashed is exactly what is on disk.
    Every ``SYNC_BYTES`` it flushes to disk, so the final fsync is short and durability costs no extra pass."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.hash = hashlib.sha256()
        self.bytes = 0
        self._unsynced = 0

    def write(self, block: bytes | bytearray | memoryview) -> None:
        self.hash.update(block)
        self.f.write(block)
        self.bytes += len(block)
        self._unsynced += len(block)
        if self._unsynced >= SYNC_BYTES:
            self.f.flush()
            os.fdatasync(self.f.fileno())
            self._unsynced = 0


class BlockPipe:
    """Hands 1 MiB blocks from the reading thread to a writer thread through a bounded queue (constant memory:
    at most ``QUEUE_BLOCKS`` blocks in flight), so hashing, writing and syncing overlap with reading the COPY.
    A failure in the writer (even KeyboardInterrupt) is re-raised in the reading thread."""

    def __init__(self, writer: HashingWriter) -> None:
        self.writer = writer
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_BLOCKS)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="audit-export-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while (block := self.queue.get()) is not None:
                self.writer.write(block)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread
            self.error = exc
            while self.queue.get() is not None:  # drain so the reader never blocks on a dead writer
                pass

    def put(self, block: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(block)

    def close(self) -> None:
        """Wait for every block to be written; re-raise the writer's failure."""
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def export_connection(params: DbParams, statement_timeout_ms: int = EXPORT_STATEMENT_TIMEOUT_MS) -> psycopg.Connection:
    """A read-only connection in UTC/ISO with TCP keepalives (a dead server is noticed) and a bounded statement."""
    options = (
        f"-c statement_timeout={statement_timeout_ms} -c TimeZone=UTC -c DateStyle=ISO,YMD"
        " -c search_path=public,opscheck"
    )
    dsn = make_conninfo(params.dsn(), **KEEPALIVES)  # libpq parameters: what connect(**KEEPALIVES) would add
    conn = psycopg.connect(dsn, options=options, client_encoding="UTF8")
    conn.read_only = True
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    return conn


def _end_of_copy(pgconn: psycopg.pq.abc.PGconn) -> int:
    """The COPY's end was read by our own ``get_copy_data``: collect its final result (``COPY n``) so the
    connection is idle again, and return n."""
    rows, error = -1, ""
    while (res := pgconn.get_result()) is not None:
        if res.status == psycopg.pq.ExecStatus.COMMAND_OK:
            rows = res.command_tuples if res.command_tuples is not None else rows
        else:
            error = (res.error_message or b"").decode("utf-8", "replace").strip() or f"COPY ended with {res.status}"
    if error:
        raise psycopg.OperationalError(error)
    return rows


def _read_blocks(cur: psycopg.Cursor, copy: psycopg.Copy, pipe: BlockPipe) -> int:
    """Gather COPY rows into blocks; return the server's row count. Rows libpq already holds are taken straight
    from ``pgconn.get_copy_data`` (one C call a row, no generator per row); when none is ready, psycopg's
    ``copy.read()`` waits on the socket (and handles the end of the COPY if that is what arrives)."""
    pgconn = cur.connection.pgconn
    get_copy_data = pgconn.get_copy_data
    block = bytearray()
    rows: int | None = None
    while True:
        nbytes, data = get_copy_data(1)
        if nbytes > 0:  # the hot path: a row libpq already has
            block += data
            if len(block) >= FLUSH_BYTES:
                pipe.put(bytes(block))
                block.clear()
            continue
        if nbytes == -1:
            rows = _end_of_copy(pgconn)
            break
        if nbytes < -1:
            raise psycopg.OperationalError(pgconn.error_message.decode("utf-8", "replace").strip())
        waited = copy.read()  # nothing buffered: psycopg waits on the socket
        if not waited:
            break
        block += waited
    if block:
        pipe.put(bytes(block))
    return cur.rowcount if rows is None else rows


def _copy_table(cur: psycopg.Cursor, table: AuditTable, start: datetime, end: datetime, path: Path) -> ExportedFile:
    with path.open("wb") as f:
        writer = HashingWriter(f)
        pipe = BlockPipe(writer)
        try:
            with cur.copy(copy_statement(table), (start, end)) as copy:
                rows = _read_blocks(cur, copy, pipe)  # the server's own count, from the COPY command tag
        finally:
            pipe.close()
        f.flush()
        os.fsync(f.fileno())
    return ExportedFile(path.name, table.name, max(rows, 0), writer.bytes, writer.hash.hexdigest())


def _schema_version(cur: psycopg.Cursor) -> str | None:
    try:
        cur.execute("SAVEPOINT schema_version")
        cur.execute("SELECT version FROM ops_schema_version ORDER BY applied_at DESC, version DESC LIMIT 1")
        row = cur.fetchone()
        cur.execute("RELEASE SAVEPOINT schema_version")
    except psycopg.Error:
        cur.execute("ROLLBACK TO SAVEPOINT schema_version")
        return None
    return str(row[0]) if row else None


def manifest_text(result: ExportResult) -> str:
    lines = [
        "Audit Export Manifest",
        "=====================",
        f"Export Date: {iso(result.exported_at)}",
        f"Date Range: {iso(result.start)} to {iso(result.end)} (half-open [from, to), UTC)",
        f"Exported By: {result.operator}",
        f"Database: {result.database}",
        f"Schema Version: {result.schema_version or 'UNKNOWN (ops_schema_version is empty or unreadable)'}",
        "Snapshot: one REPEATABLE READ read-only transaction; rows ordered by time, then id",
        "Line Endings: LF",
        f"Total Rows: {result.total_rows}",
    ]
    if result.empty:
        lines.append("Note: no rows in this range; every file holds its CSV header only")
    lines += ["", "Files:"]
    lines += [f"{f.name}  table={f.table}  rows={f.rows}  bytes={f.bytes}" for f in result.files]
    renamed = [
        f"{BY_TABLE[f.table].runbook_name} -> {f.table}"
        for f in result.files
        if f.table in BY_TABLE and BY_TABLE[f.table].runbook_name
    ]
    if renamed:
        lines += ["", "Runbook §7.1/§7.2 names that the bot's schema does not have (exported under the bot's name):"]
        lines += [f"  {r}" for r in renamed]
    lines += ["", f"Verify: cd <this directory> && sha256sum -c {CHECKSUMS}", ""]
    return "\n".join(lines)


def checksums_text(entries: list[tuple[str, str]]) -> str:
    """``sha256sum`` format: 64 hex digits, two spaces (text mode), the name relative to the directory."""
    return "".join(f"{digest}  {name}\n" for name, digest in entries)


def _write_small(path: Path, text: str) -> str:
    data = text.encode("utf-8")
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def export(
    db_params: DbParams,
    redactor: Redactor,
    start: datetime,
    end: datetime,
    out_dir: Path,
    operator: str,
    *,
    tables: tuple[AuditTable, ...] | None = None,
) -> ExportResult:
    """Export every audit table's rows with ``start <= time < end`` into ``out_dir`` (which must not exist).
    ``tables`` None: the bot's audit tables as the database declares them, read in the export's own snapshot."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ExportError("the export range must be timezone-aware (UTC)")
    if not start < end:
        raise ExportError(f"empty or inverted range: {iso(start)} to {iso(end)}")
    out_dir = out_dir.absolute()
    if out_dir.exists():
        raise ExportError(f"{out_dir} already exists; an export never overwrites")
    if not out_dir.parent.is_dir():
        raise ExportError(f"parent directory {out_dir.parent} does not exist")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        result = _export_into(db_params, redactor, start, end, tmp, operator, tables)
        os.rename(tmp, out_dir)
        _fsync_dir(out_dir.parent)
    except psycopg.Error as exc:
        raise ExportError(f"export failed: {redactor.text(one_line(exc))}") from exc
    except OSError as exc:
        raise ExportError(f"export failed: {exc.__class__.__name__}: {exc.strerror or exc}") from exc
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)  # any failure or interruption (even KeyboardInterrupt)
    return replace(result, directory=out_dir)


def _export_into(
    db_params: DbParams,
    redactor: Redactor,
    start: datetime,
    end: datetime,
    tmp: Path,
    operator: str,
    tables: tuple[AuditTable, ...] | None,
) -> ExportResult:
    exported_at = datetime.now(UTC)
    try:
        conn = export_connection(db_params)
    except psycopg.Error as exc:
        raise ExportError(f"cannot connect to {db_params.describe()}: {redactor.text(one_line(exc))}") from exc
    files: list[ExportedFile] = []
    with conn:
        with conn.cursor() as cur:
            version = _schema_version(cur)
            if tables is None:
                tables = audit_tables.discover_cursor(cur)
                if not tables:
                    raise ExportError(audit_tables.none_found(db_params.describe()))
            for table in tables:
                try:
                    files.append(_copy_table(cur, table, start, end, tmp / table.filename))
                except psycopg.Error as exc:
                    error = redactor.text(one_line(exc))
                    raise ExportError(f"cannot export {table.name}: {error}", table=table.name, error=error) from exc
        conn.rollback()  # read-only: nothing to commit
    result = ExportResult(tmp, start, end, exported_at, operator, db_params.describe(), version, tuple(files))
    entries = [(f.name, f.sha256) for f in files]
    entries.append((MANIFEST, _write_small(tmp / MANIFEST, manifest_text(result))))
    _write_small(tmp / CHECKSUMS, checksums_text(entries))
    _fsync_dir(tmp)
    return result
