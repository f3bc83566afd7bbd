"""Tamper-evident sign-off ledger: one row per signed preflight, each row carrying the hash of the previous one.

row_hash = SHA-256 of the row's canonical JSON (every recorded field plus ``prev_hash``). ``verify`` recomputes
every hash and follows the chain: an edited row no longer matches its own hash; a removed row breaks the next
row's ``prev_hash``; a row edited *and* re-hashed breaks the next row's link.

A chain alone can be *redone*: whoever can write the table can change a row and recompute every later hash.
Two things stop that, and neither is writable by the bot's role:
- a keyed MAC per row, ``mac = HMAC-SHA256(OPSCHECK_SIGNOFF_KEY, row_hash)``: the key lives with the operators
  (their env file), never in the database or the bot's environment, so a rewritten row cannot carry a valid MAC;
- an anchor outside the database: every sign-off appends ``<ledger> <row id> <row_hash> <run id>`` to an
  append-only file on the operator's host (``OPSCHECK_SIGNOFF_ANCHOR``) and prints the head. ``verify`` then
  catches removed newest rows, which no chain can see from inside, and fails when it finds no anchor for a ledger
  that has rows (``--expect-head HASH`` stands in for the anchor when checking from another host).

``<ledger>`` names the database, not the address it was reached by (``127.0.0.1`` and ``localhost`` are one
ledger): ``sysid=<system_identifier>,genesis=<first 16 hex of the oldest row's hash>,db=<current_database(),
percent-encoded>``. ``system_identifier`` comes from ``pg_control_system()`` (PUBLIC may execute it on
PostgreSQL 15; a hardened server that revoked it gets ``sysid=-`` and the line is matched by the genesis id). Lines
of the older formats (``<host>:<port>/<db> <row id> <hash> <run id>``, and ``<row id> <hash> <run id>``) still
parse: ``_select`` says how they are matched.

On live this write is the one mutation allowed without ``--allow-mutations``. The table is created by
``opscheck init`` (schema ``opscheck``), never by a signed run: missing, the sign-off fails and names init.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import psycopg
from psycopg.types.json import Jsonb

from ops_checks.access.config import DbParams
from ops_checks.access.db import Db, DbError, connect, one_line
from ops_checks.core.redaction import Redactor

GENESIS = "0" * 64
LOCK_KEY = 0x516E0FF  # serialises writers so two sign-offs never share a predecessor

MISSING = "the sign-off ledger opscheck.ops_signoffs is missing: run `opscheck init`"
NO_ANCHOR = "no anchor for this ledger"

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
        payload["signed_at"] = _hashed_time(payload["signed_at"])
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


_DIGITS, _HEX16, _HEX64 = re.compile(r"[0-9]{1,20}"), re.compile(r"[0-9a-f]{16}"), re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class LedgerId:
    """Which ledger an anchor line belongs to: the database itself, however it was reached."""

    database: str
    system_identifier: str | None  # None when pg_control_system() may not be executed by the session's role
    genesis: str | None  # the oldest row's hash (first 16 hex digits); None while the ledger is empty

    def key(self) -> str:
        return f"sysid={self.system_identifier or '-'},genesis={self.genesis or '-'},db={quote(self.database, safe='')}"

    def describe(self) -> str:
        sysid = (
            f"system_identifier {self.system_identifier}"
            if self.system_identifier
            else f"system_identifier not readable, genesis {self.genesis or '- (empty ledger)'}"
        )
        return f"{sysid}, database {self.database}"

    def matches(self, other: LedgerId) -> bool:
        """Same database name, and the same cluster; the genesis id decides only when a side lacks the cluster's."""
        if self.database != other.database:
            return False
        if self.system_identifier and other.system_identifier:
            return self.system_identifier == other.system_identifier
        return bool(self.genesis and self.genesis == other.genesis)


def _parse_key(text: str) -> LedgerId | None:
    fields = dict(part.partition("=")[::2] for part in text.split(","))
    if text.count(",") != 2 or set(fields) != {"sysid", "genesis", "db"} or not fields["db"]:
        return None
    sysid, genesis = fields["sysid"], fields["genesis"]
    if not (sysid == "-" or _DIGITS.fullmatch(sysid)) or not (genesis == "-" or _HEX16.fullmatch(genesis)):
        return None
    return LedgerId(unquote(fields["db"]), None if sysid == "-" else sysid, None if genesis == "-" else genesis)


def identify(db: Db, oldest_hash: str | None) -> LedgerId:
    """This ledger's identity. ``pg_control_system()`` runs in a savepoint: where EXECUTE was revoked, the
    refusal must not abort a sign-off's transaction."""
    try:
        with db.conn.transaction():
            row = db.one("SELECT system_identifier::text AS sysid, current_database() AS db FROM pg_control_system()")
    except DbError:
        row = None
    if row is None:
        row = {"sysid": None, **(db.one("SELECT current_database() AS db") or {"db": ""})}
    return LedgerId(str(row["db"]), row["sysid"], oldest_hash[:16] if oldest_hash else None)


def legacy_key(params: DbParams) -> str:
    """How anchor lines named a ledger before database identities: the address it was reached by."""
    return f"{params.host}:{params.port}/{params.name}"


@dataclass(frozen=True)
class Signed:
    id: int
    row_hash: str
    ledger: LedgerId
    prev_hash: str = GENESIS
    signed_at: str = ""  # as hashed (``row_hash``): ISO 8601 UTC, microseconds
    mac_key_set: bool = False

    def as_json(self) -> dict[str, Any]:
        """What the run's seal shows of its sign-off (verdict.json's ``signoff``)."""
        return {
            "signed": True,
            "ledger_row": self.id,
            "row_hash": self.row_hash,
            "prev_hash": self.prev_hash,
            "signed_at": self.signed_at,
            "mac_key_set": self.mac_key_set,
            "ledger": self.ledger.key(),
        }


def append_anchor(path: Path, signed: Signed, run_id: str) -> None:
    """Append the new head to the anchor file (created 0600; never rewritten)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as fh:
        fh.write(f"{signed.ledger.key()} {signed.id} {signed.row_hash} {run_id}\n")


@dataclass(frozen=True)
class Anchor:
    """One line of the anchor file. ``ledger`` is set for identity-keyed lines; ``legacy`` holds an older line's
    address key (``host:port/db``, or "" for the oldest lines, which named no ledger)."""

    line: int
    row_id: int
    row_hash: str
    run_id: str
    ledger: LedgerId | None = None
    legacy: str = ""


def read_anchor(path: Path) -> list[Anchor]:
    """Every line of the anchor file; a line of no known format is refused with its line number."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) >= 3 and _DIGITS.fullmatch(parts[0]) and _HEX64.fullmatch(parts[1]):  # <row id> <hash> <run id>
            out.append(Anchor(n, int(parts[0]), parts[1], parts[2]))
            continue
        if len(parts) < 4 or not _DIGITS.fullmatch(parts[1]) or not _HEX64.fullmatch(parts[2]):
            raise SignoffError(f"{path}:{n}: not an anchor line (<ledger> <row id> <row hash> <run id>)")
        if parts[0].startswith("sysid="):
            ledger = _parse_key(parts[0])
            if ledger is None:
                raise SignoffError(f"{path}:{n}: not a ledger name (sysid=…,genesis=…,db=…): {parts[0][:80]}")
            out.append(Anchor(n, int(parts[1]), parts[2], parts[3], ledger=ledger))
        else:
            out.append(Anchor(n, int(parts[1]), parts[2], parts[3], legacy=parts[0]))
    return out


def record(
    params: DbParams,
    redactor: Redactor,
    verdict: dict[str, Any],
    *,
    run_id: str,
    operator: str,
    witness: str,
    key: str | None = None,
    before_commit: Callable[[Signed], None] | None = None,
) -> Signed:
    """Append a sign-off row for this verdict (read-write session, whatever the target's read-only setting).

    ``before_commit`` gets the row (id, head hash) inside the transaction: the run writes it into its seal there,
    so the commit is the run's last write. Whatever it raises rolls the row back and is raised again; a commit
    that fails is a SignoffError (the run's seal must then say "not signed")."""
    if not operator or not witness or operator.strip().lower() == witness.strip().lower():
        raise SignoffError("a sign-off needs two different people: --operator and --witness")
    row = {
        "run_id": run_id,
        "target": verdict["target"],
        "verdict": verdict["verdict"],
        "counts": verdict["counts"],
        "results_sha256": verdict.get("results_sha256") or "",
        "operator": operator.strip(),
        "witness": witness.strip(),
        "signed_at": datetime.now(UTC).replace(microsecond=0),
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
                    (
                        row["run_id"],
                        row["target"],
                        row["verdict"],
                        Jsonb(row["counts"]),
                        row["results_sha256"],
                        row["operator"],
                        row["witness"],
                        row["signed_at"],
                        prev,
                        digest,
                        mac(key, digest) if key else None,
                    ),
                )
                oldest = db.one("SELECT row_hash FROM ops_signoffs ORDER BY id LIMIT 1")
                ledger = identify(db, oldest["row_hash"] if oldest else None)
                assert inserted is not None
                signed = Signed(
                    int(inserted["id"]), digest, ledger, prev, _hashed_time(row["signed_at"]), key is not None
                )
                if before_commit is not None:
                    before_commit(signed)
    except DbError as exc:
        raise SignoffError(f"sign-off not recorded: {exc}") from exc
    except psycopg.Error as exc:  # the COMMIT itself
        raise SignoffError(f"sign-off not recorded: {redactor.text(one_line(exc))}") from exc
    return signed


def _hashed_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def rows_of_run(params: DbParams, redactor: Redactor, run_id: str) -> list[dict[str, Any]]:
    """The ledger rows that sign ``run_id`` (normally one; none when it was not signed), read-only."""
    try:
        with connect(params, redactor) as db:
            exists = db.one("SELECT to_regclass('ops_signoffs') IS NOT NULL AS present")
            if not exists or not exists["present"]:
                raise SignoffError(MISSING)
            return db.rows(
                f"SELECT id, {', '.join(FIELDS)}, prev_hash, row_hash, mac FROM ops_signoffs WHERE run_id = %s "
                "ORDER BY id",
                (run_id,),
            )
    except DbError as exc:
        raise SignoffError(f"cannot read the sign-off ledger: {exc}") from exc


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows: int
    head: str
    problem: str = ""
    anchored: int = 0  # anchor lines of this ledger that were checked
    ledger: LedgerId | None = None
    notes: tuple[str, ...] = ()

    @property
    def unanchored(self) -> bool:
        """Failed only because nothing outside the database vouches for the newest rows (none found altered)."""
        return self.problem.startswith(NO_ANCHOR)


def _names_database(anchor: Anchor, database: str) -> bool:
    if anchor.ledger is not None:
        return anchor.ledger.database == database
    return not anchor.legacy or anchor.legacy.rpartition("/")[2] == database  # the oldest lines named no ledger


def _select(
    anchors: list[Anchor], ledger: LedgerId, by_id: dict[int, dict[str, Any]], here: str
) -> tuple[list[Anchor], list[Anchor], list[str]]:
    """This ledger's anchor lines; the lines that name this database but could not be matched to it; notes.

    Identity-keyed lines match by ``LedgerId.matches``. Older lines named the address (``host:port/db``), so
    one database could appear under several names: a name's lines all count as this ledger's when the name is
    the address used now (as before) or when any of its lines is a row of this ledger (same id, same hash: row
    hashes chain from the first row, so another ledger cannot hold it). The oldest lines, which named no ledger,
    are one such group."""
    mine = [a for a in anchors if a.ledger is not None and a.ledger.matches(ledger)]
    unmatched = [
        a
        for a in anchors
        if a.ledger is not None and not a.ledger.matches(ledger) and _names_database(a, ledger.database)
    ]
    notes = []
    groups: dict[str, list[Anchor]] = {}
    for a in anchors:
        if a.ledger is None:
            groups.setdefault(a.legacy, []).append(a)
    for name, lines in groups.items():
        label = f"'{name}'" if name else "no ledger name"
        if name == here or any((by_id.get(a.row_id) or {}).get("row_hash") == a.row_hash for a in lines):
            mine += lines
            notes.append(f"{len(lines)} anchor line(s) of the older format ({label}) taken as this ledger's")
        elif any(_names_database(a, ledger.database) for a in lines):
            unmatched += lines
    return mine, unmatched, notes


def _some(items: list[str], most: int = 10) -> str:
    return ", ".join(items[:most]) + (f" and {len(items) - most} more" if len(items) > most else "")


def _listing(anchors: list[Anchor]) -> str:
    seen = sorted({(a.row_id, a.run_id) for a in anchors})
    return _some([f"{row_id} (run {run_id})" for row_id, run_id in seen])


def _check_anchors(
    anchors: list[Anchor], rows: list[dict[str, Any]], ledger: LedgerId, path: Path, here: str, expect_head: str | None
) -> tuple[str, int, list[str]]:
    """(problem or "", anchor lines checked, notes)."""
    by_id = {int(r["id"]): r for r in rows}
    mine, unmatched, notes = _select(anchors, ledger, by_id, here)
    where = str(path) if path.is_file() else f"{path} (no such file)"
    if unmatched:
        names = sorted({a.ledger.key() if a.ledger else a.legacy or "no ledger name" for a in unmatched})
        newest = max(unmatched, key=lambda a: a.row_id)
        seen = (
            f"{where} holds {len(unmatched)} anchor line(s) naming database {ledger.database} that are not this "
            f"ledger's ({_some(names, 3)}; newest row id {newest.row_id}, run {newest.run_id})"
        )
        if (
            not rows
            and not mine
            and any(
                a.ledger is None or a.ledger.system_identifier is None or ledger.system_identifier is None
                for a in unmatched
            )
        ):
            return (
                f"this ledger is empty, and {seen}: they cannot be told apart from this ledger, whose signed "
                "rows would then have been removed",
                0,
                notes,
            )
        notes.append(seen)
    if not mine:
        if not rows:
            return "", 0, [*notes, "the ledger is empty: nothing was signed yet"]
        reason = f"{NO_ANCHOR} ({ledger.describe()}) in {where}"
        if expect_head:
            return "", 0, [*notes, f"{reason}: only --expect-head was checked"]
        return (
            f"{reason}: the newest rows cannot be checked (the next sign-off anchors it; meanwhile pass "
            "--expect-head HASH with the head the last sign-off printed)",
            0,
            notes,
        )
    missing = [a for a in mine if a.row_id not in by_id]
    if missing:
        last = max(by_id) if by_id else None
        gone = (
            "the newest rows were removed"
            if last is None or max(a.row_id for a in missing) > last
            else "signed rows were removed"
        )
        ends = f"the ledger ends at row id {last}" if last is not None else "the ledger is empty"
        return (
            f"{gone}: anchored in {path} but not in the ledger: row id {_listing(missing)}; {ends}",
            len(mine),
            notes,
        )
    rewritten = [a for a in mine if by_id[a.row_id]["row_hash"] != a.row_hash]
    if rewritten:
        return (
            f"anchored row id {_listing(rewritten)} was rewritten: its hash is not the one in {path} (head "
            f"{rewritten[0].row_hash[:12]}…): the chain was redone",
            len(mine),
            notes,
        )
    return "", len(mine), notes


def _walk(key: str | None, rows: list[dict[str, Any]]) -> ChainReport:
    expected_prev = GENESIS
    for n, row in enumerate(rows):
        label = f"row id {row['id']} (run {row['run_id']}, signed {row['signed_at'].isoformat()})"
        if row["prev_hash"] != expected_prev:
            before = f"after row id {rows[n - 1]['id']}" if n else "at the start of the ledger"
            return ChainReport(
                False,
                len(rows),
                expected_prev,
                f"chain broken at {label}: a row {before} was removed, or that row was altered",
            )
        if row_hash(row, row["prev_hash"]) != row["row_hash"]:
            return ChainReport(
                False, len(rows), expected_prev, f"{label} was altered: its content no longer matches its hash"
            )
        if key is not None and not hmac.compare_digest(row["mac"] or "", mac(key, row["row_hash"])):
            return ChainReport(
                False,
                len(rows),
                expected_prev,
                f"{label} has no valid MAC: it was written or rewritten without the operators' key ({KEY_ENV})",
            )
        expected_prev = row["row_hash"]
    return ChainReport(True, len(rows), expected_prev)


def verify(
    params: DbParams,
    redactor: Redactor,
    *,
    key: str | None = None,
    anchor_file: Path | None = None,
    expect_head: str | None = None,
) -> ChainReport:
    """Walk the ledger; the first altered or removed row is named in ``problem``. With the operators' ``key``
    every row's MAC is checked. With ``anchor_file`` the rows anchored there for this ledger must all still be
    there, unchanged, and a ledger with rows must have an anchor (a file that does not exist holds none);
    ``expect_head`` must be a row of the ledger, and stands in for a missing anchor."""
    try:
        anchors = read_anchor(anchor_file) if anchor_file is not None and anchor_file.is_file() else []
    except (OSError, UnicodeDecodeError) as exc:
        raise SignoffError(f"cannot read the anchor file {anchor_file}: {exc}") from exc
    try:
        with connect(params, redactor) as db:
            exists = db.one("SELECT to_regclass('ops_signoffs') IS NOT NULL AS present")
            if not exists or not exists["present"]:
                return ChainReport(False, 0, GENESIS, MISSING)
            rows = db.rows(f"SELECT id, {', '.join(FIELDS)}, prev_hash, row_hash, mac FROM ops_signoffs ORDER BY id")
            ledger = identify(db, rows[0]["row_hash"] if rows else None)
    except DbError as exc:
        raise SignoffError(f"cannot read the sign-off ledger: {exc}") from exc
    head = rows[-1]["row_hash"] if rows else GENESIS
    checked = 0
    notes: tuple[str, ...] = ()
    if anchor_file is not None:
        problem, checked, found = _check_anchors(anchors, rows, ledger, anchor_file, legacy_key(params), expect_head)
        notes = tuple(found)
        if problem:
            return ChainReport(False, len(rows), head, problem, checked, ledger, notes)
    report = _walk(key, rows)
    report = ChainReport(report.ok, report.rows, report.head, report.problem, checked, ledger, notes)
    if report.ok and expect_head and expect_head != report.head and expect_head not in {r["row_hash"] for r in rows}:
        return ChainReport(
            False,
            report.rows,
            report.head,
            f"the expected head {expect_head[:12]}… is not in the "
            "ledger: the newest rows were removed or the chain was redone",
            checked,
            ledger,
            notes,
        )
    return report
