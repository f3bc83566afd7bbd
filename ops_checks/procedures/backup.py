"""Runbook §3.2 Step 3: a timestamped backup of the env file and the database, every file checksummed.

The env file is copied byte for byte with mode 600. The database is dumped with ``pg_dump`` when it is on PATH
(plain SQL, the runbook's ``db_backup.sql``); when it is missing or fails (e.g. a version mismatch with the server)
every table of the schema is streamed with ``COPY … TO STDOUT`` (CSV with header; DESIGN.md §8.5: no
``docker exec -it``). ``CHECKSUMS.sha256`` (``sha256sum -c`` format) covers every file. ``restore_env`` puts the
env file back byte for byte and proves it by checksum (§3.4 Step 2).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from ops_checks.access.config import Target
from ops_checks.access.db import Db, DbError, connect, one_line
from ops_checks.core import envfile

PG_DUMP_TIMEOUT_S = 300
ENV_COPY = ".env.backup"
MANIFEST = "CHECKSUMS.sha256"

_TABLES = """
SELECT table_name FROM information_schema.tables
WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"""


class BackupError(Exception):
    """The backup could not be made; ``str()`` is one secret-free line."""


@dataclass
class Backup:
    dir: Path
    env_copy: Path
    env_sha256: str
    db_method: str
    files: dict[str, str] = field(default_factory=dict)  # relative name -> sha256
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows (COPY dump)
    notes: list[str] = field(default_factory=list)

    def manifest(self) -> str:
        return "".join(f"{digest}  {name}\n" for name, digest in sorted(self.files.items()))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stream_copy(db: Db, query: sql.Composable, path: Path) -> tuple[int, str]:
    """``COPY (query) TO STDOUT WITH CSV HEADER`` streamed to ``path`` (bounded memory); returns (rows, sha256)."""
    h = hashlib.sha256()
    copy_sql = sql.SQL("COPY ({}) TO STDOUT WITH CSV HEADER").format(query)
    try:
        with path.open("wb") as out, db.conn.cursor() as cur:
            with cur.copy(copy_sql) as copy:
                for chunk in copy:
                    data = bytes(chunk)
                    h.update(data)
                    out.write(data)
            rows = max(cur.rowcount, 0)
    except psycopg.Error as exc:
        raise DbError(one_line(exc)) from exc
    db.log.add(copy_sql.as_string(db.conn), None, [{"rows": rows, "sha256": h.hexdigest()}])
    return rows, h.hexdigest()


def copy_dump(db: Db, out_dir: Path) -> dict[str, tuple[int, str]]:
    """Every base table of the current schema as ``<table>.csv``; raises DbError naming the table that failed."""
    done: dict[str, tuple[int, str]] = {}
    for row in db.rows(_TABLES):
        table = row["table_name"]
        query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))
        try:
            done[table] = stream_copy(db, query, out_dir / f"{table}.csv")
        except DbError as exc:
            raise DbError(f"{table}: {exc}") from exc
    return done


def _pg_dump(t: Target, out: Path) -> str | None:
    """Run pg_dump when on PATH; returns a one-line problem (None: done)."""
    exe = shutil.which("pg_dump")
    if exe is None:
        return "pg_dump not on PATH"
    env = envfile.environ() | {"PGPASSWORD": t.db.password.reveal(), "PGCONNECT_TIMEOUT": "5"}
    argv = [
        exe,
        "-h",
        t.db.host,
        "-p",
        str(t.db.port),
        "-U",
        t.db.user,
        "-d",
        t.db.name,
        "--no-password",
        "-f",
        str(out),
    ]
    try:
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=PG_DUMP_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"pg_dump: {type(exc).__name__}"
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return t.redactor.text(f"pg_dump exit {proc.returncode}: {lines[0] if lines else 'no message'}")
    return None


def create(t: Target, env_file: Path, root: Path, label: str = "pre_live", use_pg_dump: bool = True) -> Backup:
    """``<root>/<UTC stamp>_<label>/``: ``.env.backup`` (600), the database dump, ``CHECKSUMS.sha256``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S_%f")
    out = root / f"{stamp}_{label}"
    try:
        out.mkdir(parents=True, exist_ok=False, mode=0o700)
        env_copy = out / ENV_COPY
        fd = os.open(env_copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(env_file.read_bytes())
        os.chmod(env_copy, 0o600)
    except OSError as exc:
        raise BackupError(f"cannot write the backup under {root}: {exc.strerror or type(exc).__name__}") from None
    backup = Backup(out, env_copy, sha256_file(env_copy), "copy")
    if backup.env_sha256 != sha256_file(env_file):
        raise BackupError("the env file changed while it was copied")
    backup.files[ENV_COPY] = backup.env_sha256
    problem = _pg_dump(t, out / "db_backup.sql") if use_pg_dump else "pg_dump not used"
    if problem is None:
        backup.db_method = "pg_dump"
        backup.files["db_backup.sql"] = sha256_file(out / "db_backup.sql")
    else:
        (out / "db_backup.sql").unlink(missing_ok=True)
        backup.notes.append(f"{problem}: COPY-based dump of every table instead")
        dump_dir = out / "db"
        dump_dir.mkdir(mode=0o700)
        try:
            with connect(t.db, t.redactor, read_only=True) as db:
                done = copy_dump(db, dump_dir)
        except DbError as exc:
            raise BackupError(f"database dump failed: {t.redactor.text(str(exc))}") from None
        for table, (rows, digest) in done.items():
            backup.files[f"db/{table}.csv"] = digest
            backup.rows[table] = rows
    (out / MANIFEST).write_text(backup.manifest(), encoding="utf-8")
    return backup


def verify(backup: Backup) -> list[str]:
    """Re-hash every file of the backup against its manifest; returns the problems."""
    problems = []
    if backup.env_copy.stat().st_mode & 0o077:
        problems.append(f"{ENV_COPY} is readable by others (mode {oct(backup.env_copy.stat().st_mode & 0o777)})")
    for name, digest in backup.files.items():
        path = backup.dir / name
        if not path.is_file():
            problems.append(f"{name} missing")
        elif sha256_file(path) != digest:
            problems.append(f"{name} does not match its checksum")
    return problems


def restore_env(backup: Backup, env_file: Path) -> str | None:
    """§3.4 Step 2: the env file back byte for byte (in place: same inode); returns a problem or None."""
    try:
        data = backup.env_copy.read_bytes()
        if hashlib.sha256(data).hexdigest() != backup.env_sha256:
            return "the env backup does not match its checksum: not restored"
        with env_file.open("r+b") as fh:
            fh.write(data)
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return f"cannot restore {env_file}: {exc.strerror or type(exc).__name__}"
    if sha256_file(env_file) != backup.env_sha256:
        return "the restored env file differs from the backup"
    return None
