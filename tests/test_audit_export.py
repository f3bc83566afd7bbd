"""Runbook §7.2 export and verify: round trip with the real sha256sum, tampering, interruption, empty ranges."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from ops_checks.access import audit_tables
from ops_checks.access.config import DbParams
from ops_checks.core.redaction import Redactor
from ops_checks.core.secret import Secret
from ops_checks.procedures import audit_export, audit_verify
from ops_checks.procedures.audit_export import CHECKSUMS, MANIFEST, ExportError
from ops_checks.procedures.audit_verify import RecordCounter
from ops_checks.sandbox import postgres

REPO = Path(__file__).resolve().parents[1]
DECISIONS = "policy_decisions.csv"


def day_range() -> tuple[datetime, datetime]:
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    return end - timedelta(days=2), end


def do_export(params: DbParams, out: Path) -> audit_export.ExportResult:
    start, end = day_range()
    return audit_export.export(params, Redactor(), start, end, out, "tester")


def declared(params: DbParams) -> tuple[audit_tables.AuditTable, ...]:
    """The audit tables the database declares (its hash-chained tables)."""
    with psycopg.connect(params.dsn()) as conn, conn.cursor() as cur:
        return audit_tables.discover_cursor(cur)


def sha256sum_c(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sha256sum", "-c", "--strict", CHECKSUMS], cwd=directory, capture_output=True, text=True)


@pytest.fixture
def exported(params: DbParams, tmp_path: Path) -> Path:
    do_export(params, tmp_path / "export")
    return tmp_path / "export"


def problems_about(report: audit_verify.VerifyReport) -> set[str]:
    return {p.file for p in report.problems}


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils sha256sum")
def test_round_trip_export_verify_and_sha256sum(params: DbParams, exported: Path) -> None:
    names = sorted(p.name for p in exported.iterdir())
    tables = declared(params)
    assert {t.name for t in tables} >= {t.name for t in audit_tables.KNOWN}  # every hash-chained table of the model
    assert names == sorted([*(t.filename for t in tables), MANIFEST, CHECKSUMS])
    report = audit_verify.verify(exported, db_params=params)
    assert report.ok, report.render()
    proc = sha256sum_c(exported)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(": OK") == len(tables) + 1
    data = (exported / DECISIONS).read_bytes()
    assert b"\r" not in data and data.endswith(b"\n")
    manifest = (exported / MANIFEST).read_text()
    for field in ("Export Date:", "Date Range:", "Exported By: tester", "Schema Version: 2.0.0", "rows=", "bytes="):
        assert field in manifest


def test_manifest_counts_are_the_databases(params: DbParams, database: postgres.Database, exported: Path) -> None:
    start, end = day_range()
    with psycopg.connect(database.admin_db_dsn) as conn:
        n = conn.execute(
            "SELECT count(*) FROM policy_decision_audit WHERE timestamp_utc >= %s AND timestamp_utc < %s", (start, end)
        ).fetchone()
    assert (
        n is not None
        and f"{DECISIONS}  table=policy_decision_audit  rows={n[0]}  " in (exported / MANIFEST).read_text()
    )


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils sha256sum")
def test_one_byte_changed_fails_naming_the_file(exported: Path) -> None:
    path = exported / "trading_orders.csv"
    data = bytearray(path.read_bytes())
    data[-10] = ord("7") if data[-10] != ord("7") else ord("8")
    path.write_bytes(bytes(data))
    report = audit_verify.verify(exported)
    assert not report.ok and problems_about(report) == {"trading_orders.csv"}
    assert "trading_orders.csv" in report.reason()
    assert sha256sum_c(exported).returncode != 0


def test_deleted_file_fails_naming_it(exported: Path) -> None:
    (exported / "risk_assessments.csv").unlink()
    report = audit_verify.verify(exported)
    assert problems_about(report) == {"risk_assessments.csv"}
    assert "missing" in report.reason()


def test_truncated_file_fails_naming_it(exported: Path) -> None:
    path = exported / DECISIONS
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    report = audit_verify.verify(exported)
    assert problems_about(report) == {DECISIONS}
    reasons = " ".join(p.reason for p in report.problems)
    assert "SHA-256" in reasons and "bytes on disk" in reasons


def test_extra_file_and_tampered_manifest_are_named(exported: Path) -> None:
    (exported / "notes.txt").write_text("added later\n")
    manifest = exported / MANIFEST
    manifest.write_text(manifest.read_text().replace("Exported By: tester", "Exported By: mallory"))
    assert problems_about(audit_verify.verify(exported)) == {"notes.txt", MANIFEST}


LATE = "00000000-0000-4000-8000-000000001ae1"  # a backdated decision that arrived after the export


def test_rows_added_to_the_range_after_export_fail_against_db(
    params: DbParams, database: postgres.Database, tmp_path: Path
) -> None:
    out = tmp_path / "e"
    result = do_export(params, out)
    backdated = result.end - timedelta(hours=3)
    with psycopg.connect(database.admin_db_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO policy_decision_audit (correlation_id, timestamp_utc, policy_decision, reason_code, "
            "context_snapshot) VALUES (%s, %s, 'ALLOW', 'ALLOW_ALL_GATES_PASSED', '{}'::jsonb)",
            (LATE, backdated),
        )
    try:
        report = audit_verify.verify(out, db_params=params)
        assert audit_verify.verify(out).ok  # the files themselves are intact
        assert problems_about(report) == {DECISIONS}
        assert "in the database" in report.reason()
    finally:
        with psycopg.connect(database.admin_db_dsn, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")  # past the bot's prevent_delete
            conn.execute("DELETE FROM policy_decision_audit WHERE correlation_id = %s", (LATE,))


def test_crlf_export_is_rejected(exported: Path) -> None:
    import hashlib

    path = exported / DECISIONS
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    sums = exported / CHECKSUMS
    sums.write_text(
        "".join(
            f"{digest}  {DECISIONS}\n" if line.endswith(f"  {DECISIONS}") else line + "\n"
            for line in sums.read_text().splitlines()
        )
    )
    reasons = [p.reason for p in audit_verify.verify(exported).problems if p.file == DECISIONS]
    assert any("CRLF" in r for r in reasons)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_interrupted_export_leaves_no_partial_directory(
    params: DbParams, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    calls = {"n": 0}
    original = audit_export.HashingWriter.write

    def failing_write(self: audit_export.HashingWriter, block: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise exc
        original(self, block)

    monkeypatch.setattr(audit_export, "FLUSH_BYTES", 4096)
    monkeypatch.setattr(audit_export.HashingWriter, "write", failing_write)
    out = tmp_path / "export"
    with pytest.raises((KeyboardInterrupt, ExportError)):
        do_export(params, out)
    assert calls["n"] == 5  # it really was midway through the first table
    assert list(tmp_path.iterdir()) == []


def test_empty_range_exports_headers_only(params: DbParams, tmp_path: Path) -> None:
    start = datetime(2001, 1, 1, tzinfo=UTC)
    result = audit_export.export(params, Redactor(), start, start + timedelta(days=1), tmp_path / "x", "tester")
    assert result.empty and "headers only" in result.summary()
    for table in declared(params):
        lines = (tmp_path / "x" / table.filename).read_text().splitlines()
        assert len(lines) == 1 and table.key[0] in lines[0].split(","), (table, lines)
    assert "no rows in this range" in (tmp_path / "x" / MANIFEST).read_text()
    assert audit_verify.verify(tmp_path / "x", db_params=params).ok


def test_export_never_overwrites_and_rejects_bad_ranges(params: DbParams, tmp_path: Path) -> None:
    (tmp_path / "exists").mkdir()
    start, end = day_range()
    with pytest.raises(ExportError, match="already exists"):
        audit_export.export(params, Redactor(), start, end, tmp_path / "exists", "t")
    with pytest.raises(ExportError, match="inverted"):
        audit_export.export(params, Redactor(), end, start, tmp_path / "new", "t")
    with pytest.raises(ExportError, match="timezone"):
        audit_export.export(params, Redactor(), start.replace(tzinfo=None), end, tmp_path / "new", "t")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists"]


def test_unreachable_database_is_a_one_line_error(tmp_path: Path) -> None:
    bad = DbParams("127.0.0.1", postgres.free_port(), "x", "y", Secret("pw-not-to-leak"))
    start, end = day_range()
    with pytest.raises(ExportError) as info:
        audit_export.export(bad, Redactor(["pw-not-to-leak"]), start, end, tmp_path / "x", "t")
    assert "\n" not in str(info.value) and "pw-not-to-leak" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_cli_export_then_verify_against_db(database: postgres.Database, tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DB_HOST": database.host,
        "DB_PORT": str(database.port),
        "DB_NAME": database.name,
        "DB_USER": database.user,
        "DB_PASSWORD": database.password,
    }
    start, end = day_range()
    out = tmp_path / "cli"
    cmd = [sys.executable, "-m", "ops_checks.cli", "audit"]
    run = subprocess.run(
        [
            *cmd,
            "export",
            "--from",
            start.date().isoformat(),
            "--to",
            (end + timedelta(days=1)).date().isoformat(),
            "--out",
            str(out),
            "--operator",
            "auditor",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "export complete" in run.stdout and database.password not in run.stdout + run.stderr
    ok = subprocess.run([*cmd, "verify", str(out), "--against-db"], cwd=REPO, env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (out / "ai_debates.csv").unlink()
    bad = subprocess.run([*cmd, "verify", str(out)], cwd=REPO, env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and "ai_debates.csv" in bad.stderr


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_record_counter_handles_quoted_newlines_across_chunks(size: int) -> None:
    data = b'id,text\n1,"a\nb ""q"" \n"\n2,plain\n3,"x,""\n"""\n'
    counter = RecordCounter()
    for i in range(0, len(data), size):
        counter.feed(data[i : i + size])
    assert counter.newlines == 4  # header + 3 records
