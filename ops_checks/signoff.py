"""Tamper-evident sign-off ledger: one row per signed preflight, each row carrying the hash of the previous one.

row_hash = SHA-256 of the row's canonical JSON (every recorded field plus ``prev_hash``). ``verify`` recomputes
every hash and follows the chain: an edited row no longer matches its own hash; a removed row breaks the next
row's ``prev_hash``; a row edited *and* re-hashed breaks the next row's link. Removing the newest rows cannot be
seen from inside the table, so every sign-off also prints the new head hash for the operator's report to anchor.

On live this write is the one mutation allowed without ``--allow-mutations``. The table is created by
``opscheck init`` (schema ``opscheck``), never by a signed run: missing, the sign-off fails and names init.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from ops_checks.config import DbParams
from ops_checks.db import Db, DbError, connect
from ops_checks.redaction import Redactor

GENESIS = "0" * 64
LOCK_KEY = 0x516E0FF  # serialises writers so two sign-offs never share a predecessor

MISSING = "the sign-off ledger opscheck.ops_signoffs is missing: run `opscheck init`"

FIELDS = ("run_id", "target", "verdict", "counts", "results_sha256", "operator", "witness", "signed_at")


class SignoffError(Exception):
    """The sign-off could not be recorded or read; one-line reason."""


def row_hash(row: dict[str, Any], prev_hash: str) -> str:
    payload = {k: row[k] for k in FIELDS} | {"prev_hash": prev_hash}
    if isinstance(payload["signed_at"], datetime):
        payload["signed_at"] = payload["signed_at"].astimezone(UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Signed:
    id: int
    row_hash: str


def record(params: DbParams, redactor: Redactor, verdict: dict[str, Any], *, run_id: str, operator: str,
           witness: str) -> Signed:
    """Append a sign-off row for this verdict (read-write session, whatever the target's read-only setting)."""
    if not operator or not witness or operator.strip().lower() == witness.strip().lower():
        raise SignoffError("a sign-off needs two different people: --operator and --witness")
    row = {
        "run_id": run_id, "target": verdict["target"], "verdict": verdict["verdict"], "counts": verdict["counts"],
        "results_sha256": verdict.get("results_sha256") or "", "operator": operator.strip(),
        "witness": witness.strip(), "signed_at": datetime.now(UTC).replace(microsecond=0),
    }
    try:
        with connect(params, redactor, read_only=False) as db:
            with db.conn.transaction():
                present = db.one("SELECT to_regclass('ops_signoffs') IS NOT NULL AS present")
                if not present or not present["present"]:
                    raise SignoffError(f"sign-off not recorded: {MISSING}")
                db.rows("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
                last = db.one("SELECT row_hash FROM ops_signoffs ORDER BY id DESC LIMIT 1")
                prev = last["row_hash"] if last else GENESIS
                digest = row_hash(row, prev)
                inserted = db.one(
                    "INSERT INTO ops_signoffs (run_id, target, verdict, counts, results_sha256, operator, witness, "
                    "signed_at, prev_hash, row_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
                    (row["run_id"], row["target"], row["verdict"], Jsonb(row["counts"]), row["results_sha256"],
                     row["operator"], row["witness"], row["signed_at"], prev, digest))
    except DbError as exc:
        raise SignoffError(f"sign-off not recorded: {exc}") from exc
    assert inserted is not None
    return Signed(int(inserted["id"]), digest)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows: int
    head: str
    problem: str = ""


def _walk(db: Db) -> ChainReport:
    rows = db.rows(f"SELECT id, {', '.join(FIELDS)}, prev_hash, row_hash FROM ops_signoffs ORDER BY id")
    expected_prev = GENESIS
    for n, row in enumerate(rows):
        label = f"row id {row['id']} (run {row['run_id']}, signed {row['signed_at'].isoformat()})"
        if row["prev_hash"] != expected_prev:
            before = f"after row id {rows[n - 1]['id']}" if n else "at the start of the ledger"
            return ChainReport(False, len(rows), expected_prev,
                               f"chain broken at {label}: a row {before} was removed, or that row was altered")
        if row_hash(row, row["prev_hash"]) != row["row_hash"]:
            return ChainReport(False, len(rows), expected_prev, f"{label} was altered: its content no longer "
                               "matches its hash")
        expected_prev = row["row_hash"]
    return ChainReport(True, len(rows), expected_prev)


def verify(params: DbParams, redactor: Redactor) -> ChainReport:
    """Walk the ledger; the first altered or removed row is named in ``problem``."""
    try:
        with connect(params, redactor) as db:
            exists = db.one("SELECT to_regclass('ops_signoffs') IS NOT NULL AS present")
            if not exists or not exists["present"]:
                return ChainReport(False, 0, GENESIS, MISSING)
            return _walk(db)
    except DbError as exc:
        raise SignoffError(f"cannot read the sign-off ledger: {exc}") from exc
