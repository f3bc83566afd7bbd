"""Verify an audit export directory: re-hash every file, re-count the CSV records, check the manifest, and
optionally compare the row counts with the database. Every problem names the file it is about."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg

from ops_checks.access import audit_tables
from ops_checks.access.config import DbParams
from ops_checks.access.db import one_line
from ops_checks.core.redaction import Redactor
from ops_checks.procedures.audit_export import CHECKSUMS, MANIFEST, count_statement, export_connection

READ_BYTES = 1 << 20
CHECKSUM_LINE = re.compile(r"^(?P<digest>[0-9a-f]{64}) [ *](?P<name>[^/\\]+)$")
FILE_LINE = re.compile(r"^(?P<name>\S+\.csv)\s+table=(?P<table>\w+)\s+rows=(?P<rows>\d+)\s+bytes=(?P<bytes>\d+)$")
RANGE_LINE = re.compile(r"^Date Range: (?P<start>\S+) to (?P<end>\S+)")
REQUIRED_FIELDS = ("Export Date", "Date Range", "Exported By", "Schema Version")


@dataclass(frozen=True)
class Problem:
    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


@dataclass(frozen=True)
class ManifestEntry:
    name: str
    table: str
    rows: int
    bytes: int


@dataclass
class Manifest:
    fields: dict[str, str]
    files: list[ManifestEntry]
    start: datetime | None = None
    end: datetime | None = None


@dataclass
class VerifyReport:
    directory: Path
    problems: list[Problem] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, file: str, reason: str) -> None:
        self.problems.append(Problem(file, reason))

    def reason(self) -> str:
        if self.ok:
            return ""
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"{self.problems[0]}{more}"

    def render(self) -> str:
        out = [f"verify {self.directory}", *self.lines]
        out += [f"PROBLEM {p}" for p in self.problems] or ["OK: every file matches its checksum and manifest"]
        return "\n".join(out)


class RecordCounter:
    """Counts CSV records in a byte stream: newlines outside double quotes (Postgres CSV quotes fields holding
    newlines and doubles embedded quotes, so quote parity tells inside from outside)."""

    def __init__(self) -> None:
        self.in_quotes = False
        self.newlines = 0

    def feed(self, data: bytes) -> None:
        if b'"' not in data:
            if not self.in_quotes:
                self.newlines += data.count(b"\n")
            return
        parts = data.split(b'"')
        self.newlines += sum(p.count(b"\n") for p in parts[(1 if self.in_quotes else 0) :: 2])
        if len(parts) % 2 == 0:
            self.in_quotes = not self.in_quotes


@dataclass(frozen=True)
class FileScan:
    sha256: str
    bytes: int
    records: int  # newline-terminated CSV records, header included
    first_line_crlf: bool
    ends_with_newline: bool


def scan(path: Path) -> FileScan:
    h, counter, size, first, last = hashlib.sha256(), RecordCounter(), 0, b"", b""
    with path.open("rb") as f:
        while chunk := f.read(READ_BYTES):
            if not first:
                first = chunk[: chunk.find(b"\n") + 1] if b"\n" in chunk else chunk
            h.update(chunk)
            counter.feed(chunk)
            size += len(chunk)
            last = chunk[-1:]
    return FileScan(h.hexdigest(), size, counter.newlines, first.endswith(b"\r\n"), last == b"\n")


def parse_checksums(text: str, report: VerifyReport) -> dict[str, str]:
    entries: dict[str, str] = {}
    for n, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        m = CHECKSUM_LINE.match(line)
        if not m:
            report.add(CHECKSUMS, f"line {n} is not in sha256sum format")
            continue
        entries[m["name"]] = m["digest"]
    return entries


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_manifest(text: str, report: VerifyReport) -> Manifest:
    fields: dict[str, str] = {}
    files: list[ManifestEntry] = []
    manifest = Manifest(fields, files)
    for line in text.splitlines():
        if m := FILE_LINE.match(line):
            files.append(ManifestEntry(m["name"], m["table"], int(m["rows"]), int(m["bytes"])))
        elif ": " in line:
            key, _, value = line.partition(": ")
            fields[key.strip()] = value.strip()
        if m := RANGE_LINE.match(line):
            manifest.start, manifest.end = _parse_time(m["start"]), _parse_time(m["end"])
    for name in REQUIRED_FIELDS:
        if not fields.get(name):
            report.add(MANIFEST, f"has no {name}")
    if fields.get("Schema Version", "").startswith("UNKNOWN"):
        report.add(MANIFEST, "names no schema version (ops_schema_version empty or unreadable)")
    if manifest.start is None or manifest.end is None:
        report.add(MANIFEST, "has no readable Date Range")
    if not files:
        report.add(MANIFEST, "lists no files")
    return manifest


def verify(directory: Path, *, db_params: DbParams | None = None, redactor: Redactor | None = None) -> VerifyReport:
    """Re-hash, re-count and cross-check an export directory; with ``db_params`` also count rows in the DB."""
    report = VerifyReport(directory)
    if not directory.is_dir():
        report.add(str(directory), "is not a directory")
        return report
    try:
        sums = parse_checksums((directory / CHECKSUMS).read_text(encoding="utf-8"), report)
    except (OSError, UnicodeDecodeError) as exc:
        report.add(CHECKSUMS, f"unreadable ({exc.__class__.__name__})")
        sums = {}
    try:
        manifest = parse_manifest((directory / MANIFEST).read_text(encoding="utf-8"), report)
    except (OSError, UnicodeDecodeError) as exc:
        report.add(MANIFEST, f"unreadable ({exc.__class__.__name__})")
        manifest = Manifest({}, [])
    if sums and MANIFEST not in sums:
        report.add(MANIFEST, f"not listed in {CHECKSUMS}")
    scans: dict[str, FileScan] = {}
    for name, digest in sums.items():
        path = directory / name
        if not path.is_file():
            report.add(name, "missing (listed in CHECKSUMS.sha256)")
            continue
        scans[name] = s = scan(path)
        if s.sha256 != digest:
            report.add(name, "SHA-256 does not match CHECKSUMS.sha256 (file changed, truncated or corrupted)")
    for path in sorted(directory.iterdir()):
        if path.name not in sums and path.name != CHECKSUMS:
            report.add(path.name, f"present but not listed in {CHECKSUMS}")
    for entry in manifest.files:
        _check_entry(entry, sums, scans, report)
    if db_params is not None and manifest.start and manifest.end and manifest.files:
        _against_db(manifest, db_params, redactor or Redactor(), report)
    return report


def _check_entry(entry: ManifestEntry, sums: dict[str, str], scans: dict[str, FileScan], report: VerifyReport) -> None:
    if entry.name not in sums:
        report.add(entry.name, f"in the manifest but not in {CHECKSUMS}")
        return
    s = scans.get(entry.name)
    if s is None:
        return  # already reported missing
    rows = max(s.records - 1, 0)
    report.lines.append(f"{entry.name}: {rows} rows, {s.bytes} bytes, sha256 {s.sha256}")
    if s.bytes != entry.bytes:
        report.add(entry.name, f"{s.bytes} bytes on disk, {entry.bytes} in the manifest")
    if s.records == 0 or not s.ends_with_newline:
        report.add(entry.name, "incomplete: no header or last record not terminated")
    elif rows != entry.rows:
        report.add(entry.name, f"{rows} CSV records on disk, {entry.rows} rows in the manifest")
    if s.first_line_crlf:
        report.add(entry.name, "CRLF line endings (a TTY export, DESIGN.md §8.5)")


def _against_db(manifest: Manifest, params: DbParams, redactor: Redactor, report: VerifyReport) -> None:
    try:
        conn = export_connection(params, statement_timeout_ms=3600 * 1000)
    except psycopg.Error as exc:
        report.add("database", f"cannot connect: {redactor.text(one_line(exc))}")
        return
    with conn, conn.cursor() as cur:
        try:
            declared = {t.name: t for t in audit_tables.discover_cursor(cur)}
        except psycopg.Error as exc:
            report.add("database", f"cannot read the audit tables' triggers: {redactor.text(one_line(exc))}")
            return
        exported = {entry.table for entry in manifest.files}
        for name in sorted(set(declared) - exported):
            report.add(MANIFEST, f"lists no export of {name}, one of the bot's hash-chained audit tables")
        for entry in manifest.files:
            table = declared.get(entry.table)
            if table is None:
                report.add(
                    entry.name, f"{entry.table} (in the manifest) is no hash-chained audit table of the database"
                )
                continue
            try:
                cur.execute(count_statement(table), (manifest.start, manifest.end))
                row = cur.fetchone()
            except psycopg.Error as exc:
                report.add(entry.name, f"cannot count {table.name} in the database: {redactor.text(one_line(exc))}")
                conn.rollback()
                continue
            count = int(row[0]) if row else -1
            report.lines.append(f"{entry.name}: {count} rows in the database for the range")
            if count != entry.rows:
                report.add(entry.name, f"{entry.rows} rows exported, {count} in the database for the same range")
