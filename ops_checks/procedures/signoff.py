"""Tamper-evident sign-off ledger: one row per signed preflight, each row carrying the hash of the previous one.

row_hash = SHA-256 of the row's canonical JSON (every recorded field plus ``prev_hash``). ``verify`` recomputes
every hash and follows the chain: an edited row no longer matches its own hash; a removed row breaks the next
row's ``prev_hash``; a row edited *and* re-hashed breaks the next row's link.

A chain alone can be *redone*: whoever can write the table can change a row and recompute every later hash.
Two things stop that, and neither is writable by the bot's role:
- a keyed MAC per row, ``mac = HMAC-SHA256(OPSCHECK_SIGNOFF_KEY, row_hash)``: the key lives with the operators
  (their env file), never in the database or the bot's environment, so a rewritten row cannot carry a valid MAC;
- an anchor outside the database: every sign-off appends ``<row id> <row_hash> <run id>`` to an append-only file
  on the operator's host (``OPSCHECK_SIGNOFF_ANCHOR``) and prints the head. ``verify --anchor FILE`` (or
  ``--expect-head HASH``) then catches removed newest rows, which no chain can see from inside.

On live this write is the one mutation allowed without ``--allow-mutations``. The table is created by
``opscheck init`` (schema ``opscheck``), never by a signed run: missing, the sign-off fails and names init.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from ops_checks.core.redaction import Redactor
from ops_checks.target.config import DbParams
from ops_checks.target.db import Db, DbError, connect

GENESIS = "0" * 64
LOCK_KEY = 0x516E0FF  # serialises writers so two sign-offs never share a predecessor

MISSING = "the sign-off ledger opscheck.ops_signoffs is missing: run `opscheck init`"

KEY_ENV = "OPSCHECK_SIGNOFF_KEY"
ANCHOR_ENV = "OPSCHECK_SIGNOFF_ANCHOR"
DEFAULT_ANCHOR = Path.home() / ".opscheck" / "signoff-anchor.log"
MIN_KEY_LEN = 32

FIELDS = ("run_id", "target", "verdict", "counts", "results_sha256", "operator", "witness", "signed_at")


class SignoffError(Exception):
    """The sign-off could not be recorded or read; one-line reason."""


def row_hash(row: dict[str, Any], prev_hash: str) -> str:
    payload = {k: row[k] for k in FIELDS} | {"prev_hash": prev_hash}
    if isinstance(payload["signed_at"], datetime):
        payload["signed_at"] = payload["signed_at"].astimezone(UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def mac(key: str, digest: str) -> str:
    return hmac.new(key.encode(), digest.encode(), hashlib.sha256).hexdigest()


def key_from(env: dict[str, str] | None = None) -> str | None:
    """The operators' MAC key, or None when not configured; a key that is set but short is refused."""
    key = (env if env is not None else os.environ).get(KEY_ENV, "")
    if not key:
        return None
    if len(key) < MIN_KEY_LEN:
        raise SignoffError(f"{KEY_ENV} is shorter than {MIN_KEY_LEN} characters")
    return key


def anchor_path(env: dict[str, str] | None = None) -> Path:
    raw = (env if env is not None else os.environ).get(ANCHOR_ENV, "")
    return Path(raw) if raw else DEFAULT_ANCHOR


def ledger_id(params: DbParams) -> str:
    """Which ledger an anchor line belongs to: the database's host:port/name (one anchor file may serve several)."""
    return f"{params.host}:{params.port}/{params.name}"


def append_anchor(path: Path, signed: Signed, run_id: str, ledger: str) -> None:
    """Append the new head to the anchor file (created 0600; never rewritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(f"{ledger} {signed.id} {signed.row_hash} {run_id}\n")


def read_anchor(path: Path, ledger: str) -> list[tuple[int, str]]:
    """The anchored (row id, head hash) pairs of this ledger."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if len(parts) < 3 or not parts[1].isdigit() or len(parts[2]) != 64:
            raise SignoffError(f"{path}:{n}: not an anchor line (<ledger> <row id> <row hash> <run id>)")
        if parts[0] == ledger:
            out.append((int(parts[1]), parts[2]))
    return out


@dataclass(frozen=True)
class Signed:
    id: int
    row_hash: str


def record(params: DbParams, redactor: Redactor, verdict: dict[str, Any], *, run_id: str, operator: str,
           witness: str, key: str | None = None) -> Signed:
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
                    "signed_at, prev_hash, row_hash, mac) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "RETURNING id",
                    (row["run_id"], row["target"], row["verdict"], Jsonb(row["counts"]), row["results_sha256"],
                     row["operator"], row["witness"], row["signed_at"], prev, digest,
                     mac(key, digest) if key else None))
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


def _walk(db: Db, key: str | None = None, anchors: list[tuple[int, str]] | None = None) -> ChainReport:
    rows = db.rows(f"SELECT id, {', '.join(FIELDS)}, prev_hash, row_hash, mac FROM ops_signoffs ORDER BY id")
    by_id = {int(r["id"]): r for r in rows}
    for anchored_id, anchored_hash in anchors or []:
        found = by_id.get(anchored_id)
        if found is None or found["row_hash"] != anchored_hash:
            what = "is missing" if found is None else "was rewritten"
            return ChainReport(False, len(rows), rows[-1]["row_hash"] if rows else GENESIS,
                               f"anchored row id {anchored_id} (head {anchored_hash[:12]}…) {what}: "
                               "signed rows were removed or the chain was redone")
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
        if key is not None and not hmac.compare_digest(row["mac"] or "", mac(key, row["row_hash"])):
            return ChainReport(False, len(rows), expected_prev, f"{label} has no valid MAC: it was written or "
                               f"rewritten without the operators' key ({KEY_ENV})")
        expected_prev = row["row_hash"]
    return ChainReport(True, len(rows), expected_prev)


def verify(params: DbParams, redactor: Redactor, *, key: str | None = None,
           anchors: list[tuple[int, str]] | None = None, expect_head: str | None = None) -> ChainReport:
    """Walk the ledger; the first altered or removed row is named in ``problem``. With the operators' ``key``
    every row's MAC is checked; with ``anchors`` (from the anchor file) or ``expect_head`` the rows signed
    earlier must all still be there, unchanged."""
    try:
        with connect(params, redactor) as db:
            exists = db.one("SELECT to_regclass('ops_signoffs') IS NOT NULL AS present")
            if not exists or not exists["present"]:
                return ChainReport(False, 0, GENESIS, MISSING)
            report = _walk(db, key, anchors)
            if report.ok and expect_head and expect_head != report.head:
                hashes = {r["row_hash"] for r in db.rows("SELECT row_hash FROM ops_signoffs")}
                if expect_head not in hashes:
                    return ChainReport(False, report.rows, report.head, f"the expected head {expect_head[:12]}… "
                                       "is not in the ledger: the newest rows were removed or the chain was redone")
            return report
    except DbError as exc:
        raise SignoffError(f"cannot read the sign-off ledger: {exc}") from exc
