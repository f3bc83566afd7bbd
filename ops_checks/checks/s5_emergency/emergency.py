"""Runbook §5 emergency shutdown, live side: read-only readiness of each level, and what L4 produces.

Live never stops anything: each level is checked for readiness only.
- L1 (5.2.1): the runbook's own one-liner is valid against the live schema and the role may run it (EXPLAIN in a
  read-only session: it resolves every column and checks privileges without running), and the guardian API
  refuses callers without the secret.
- L2 (5.3.1): the bot container ``docker stop`` names is known to the service list.
- L3 (5.4.1): every expected service is known to the service list (what ``docker-compose down`` must stop).
- L4 (5.5.1): the L4 statement is valid, the audit tables can be streamed out by the role (COPY … LIMIT 0), and the
  revocation and rotation checklist is produced.
The sandbox runs the levels as drills instead (``ops_checks.drills.emergency_drill``).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from ops_checks.access import audit_tables, guardian
from ops_checks.access.config import DEFAULT_SERVICES, Target
from ops_checks.access.db import Db, DbError, connect
from ops_checks.checks import givens, runbook_sql
from ops_checks.checks.s1_preconditions import infra
from ops_checks.core.http import HttpError, Recorder, request
from ops_checks.core.result import Cause, CheckResult, Evidence, Status, failed, not_verified, passed

LEVELS = {"5.2.1": "L1", "5.3.1": "L2", "5.4.1": "L3", "5.5.1": "L4"}
BOT_CONTAINER = "autonomous_alpha_bot"  # the name §5.3 stops
# §5.5 step 5's dump (the runbook pg_dumps the whole database as postgres; the suite streams the audit tables as the
# application role): the settings row and every audit table of the bot, as its schema declares them
# (ops_checks.access.audit_tables: its hash-chained tables).
SETTINGS_TABLE = "system_settings"
L4_ROTATE = ("SOVEREIGN_SECRET", "WEBHOOK_SECRET", "GUARDIAN_RESET_CODE")
ALSO_ROTATE = ("DB_PASSWORD", "POSTGRES_PASSWORD", "DISCORD_WEBHOOK_URL", "OPENROUTER_API_KEY", "GRAFANA_TOKEN")

# What the runbook prints (§5.2, §5.5 step 1), used only when the runbook itself cannot be read.
FALLBACK = {
    "L1": "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = 'EMERGENCY_L1' "
    "WHERE id = 1",
    "L4": "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = 'SECURITY_BREACH_L4' "
    "WHERE id = 1",
}


def one_liners(runbook_dir: Path | None) -> dict[str, runbook_sql.Statement]:
    """The L1 and L4 kill-switch statements exactly as the runbook prints them (§5.2, §5.5 step 1)."""
    found: dict[str, runbook_sql.Statement] = {}
    path = runbook_dir / runbook_sql.RUNBOOKS[0] if runbook_dir else None
    if path is not None and path.exists():
        for s in runbook_sql.extract(path):
            level = {"5.2": "L1", "5.5": "L4"}.get(s.section.split(" ")[0])
            if level and level not in found and s.sql.upper().startswith("UPDATE SYSTEM_SETTINGS"):
                found[level] = s
    for level, text in FALLBACK.items():
        found.setdefault(level, runbook_sql.Statement("built-in copy (runbook not readable)", 0, level, text))
    return found


def api_answers(t: Target, bot_url: str, rec: Recorder) -> bool:
    """Whether the bot's health endpoint still answers (after §5.3 it must not)."""
    try:
        request("GET", bot_url + t.bot_health_path, recorder=rec, timeout=1.0)
    except HttpError:
        return False
    return True


def revocation_checklist(t: Target, state: str, dump: str) -> str:
    """§5.5 steps 3–4 as a checklist: names and places only, never a value (nor part of one)."""

    def configured(name: str) -> str:
        return "configured" if t.value(name) else "NOT CONFIGURED"

    lines = [
        f"L4 revocation and rotation checklist (runbook §5.5), generated {datetime.now(UTC).isoformat()} "
        f"for target {t.name}",
        f"[ ] 1. Kill switch ACTIVE (SECURITY_BREACH_L4): {state}",
        "[ ] 2. All services stopped (docker-compose down; docker ps --filter name=autonomous shows none)",
        f"[ ] 3. VALR: delete/disable the API key configured as VALR_API_KEY ({configured('VALR_API_KEY')}) at "
        "https://www.valr.com/settings/api-keys; create a new key, unused until the investigation closes",
    ]
    lines += [f"[ ] {i}. Generate a new {name} ({configured(name)})" for i, name in enumerate(L4_ROTATE, 4)]
    n = 4 + len(L4_ROTATE)
    lines += [
        f"[ ] {n}. Update .env with the new values; record each rotation (runbook §2.4)",
        f"[ ] {n + 1}. Consider rotating too: " + ", ".join(f"{x} ({configured(x)})" for x in ALSO_ROTATE),
        f"[ ] {n + 2}. Audit dump kept for the investigation: {dump}",
        f"[ ] {n + 3}. Security contact called (§5.6, P1 < 5 minutes)",
    ]
    return t.redactor.text("\n".join(lines))


def dump_tables(db: Db) -> tuple[str, ...]:
    """What the L4 dump streams out: the settings row and the bot's audit tables as the database declares them."""
    return (SETTINGS_TABLE, *(t.name for t in audit_tables.discover(db)))


@dataclass(frozen=True)
class DumpProblem:
    """The table the audit dump could not stream out, and the database's one-line error."""

    table: str
    error: str

    def __str__(self) -> str:
        return f"{self.table}: {self.error}"


def audit_dump(db: Db, out_dir: Path | None) -> tuple[dict[str, tuple[int, str]], DumpProblem | None]:
    """Stream each audit table with COPY … TO STDOUT (CSV, header; DESIGN.md §8.5: no ``docker exec -it``).

    ``out_dir`` None: a probe (``LIMIT 0``) proving the role may stream every table. Returns per table
    (rows, sha256) and the first problem, if any."""
    done: dict[str, tuple[int, str]] = {}
    for table in dump_tables(db):
        query = sql.SQL("COPY (SELECT * FROM {} {}) TO STDOUT WITH CSV HEADER").format(
            sql.Identifier(table), sql.SQL("LIMIT 0" if out_dir is None else "")
        )
        buf = io.BytesIO()
        try:
            with db.conn.cursor() as cur, cur.copy(query) as copy:
                for chunk in copy:
                    buf.write(bytes(chunk))
        except psycopg.Error as exc:
            text = str(exc).strip().splitlines()
            return done, DumpProblem(table, text[0] if text else type(exc).__name__)
        data = buf.getvalue()
        rows = max(0, len(list(csv.reader(io.StringIO(data.decode("utf-8", "replace"))))) - 1)
        digest = hashlib.sha256(data).hexdigest()
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / f"{table}.csv").write_bytes(data)
        done[table] = (rows, digest)
    if out_dir is not None:
        manifest = "".join(f"{d}  {t}.csv\n" for t, (_, d) in done.items())
        (out_dir / "CHECKSUMS.sha256").write_text(manifest, encoding="utf-8")
    return done, None


def dump_cause(t: Target, problem: DumpProblem) -> Cause:
    """Why the role cannot stream a table out: its grant (or the table is missing), with the remedy."""
    return givens.table_cause(t, problem.table, problem.error)


def _ready(label: str, found: list[CheckResult], observed: str, *evidence: Evidence) -> CheckResult:
    """The readiness of one level from the parts that did not hold (``found``): failed when one failed (its cause
    first), not verified when every one of them only could not be verified, passed when there are none."""
    expected = f"{label} ready"
    broken = [r for r in found if r.status in (Status.FAILED, Status.ERROR)]
    if broken:
        first = broken[0]
        why = f"{label} not ready: " + "; ".join(r.summary() for r in broken)
        return failed(
            "; ".join(r.summary() for r in found),
            expected,
            why,
            *evidence,
            cause=first.cause,
            blocked_by=first.blocked_by,
        )
    if found:
        first = found[0]
        why = f"{label} readiness: " + "; ".join(r.summary() for r in found)
        return not_verified(why, *evidence, cause=first.cause, blocked_by=first.blocked_by, expected=expected)
    return passed(observed, expected, f"{label} ready: {observed}", *evidence)


def problem(reason: str, cause: Cause | None = None) -> CheckResult:
    """One part of a readiness check that does not hold, as a failed result."""
    return failed("not ready", "ready", reason, cause=cause)


def l1_ready(t: Target, runbook_dir: Path | None) -> CheckResult:
    stmt = one_liners(runbook_dir)["L1"]
    valid = runbook_sql.check(t, [stmt], "L1 one-liner")
    rec = Recorder(t.redactor)
    found = [] if valid.ok else [valid]
    if (guard := guardian.authorisation(t, rec)) is not None:
        found.append(guard)
    return _ready(
        "L1",
        found,
        "one-liner valid and permitted; guardian demands the secret",
        *valid.evidence,
        Evidence("HTTP", rec.render()),
    )


def _service_problems(t: Target, wanted: list[str]) -> tuple[list[CheckResult], str]:
    try:
        listed = infra.list_services(t)
    except infra.ServicesError as exc:
        return [infra.services_unreadable(exc)], ""
    names = {s.name: s.state for s in listed}
    missing = [n for n in wanted if n not in names]
    table = "\n".join(f"{s.name}\t{s.state}\t{s.health}" for s in listed)
    return ([problem(f"not in the service list: {', '.join(missing)}")] if missing else []), table


def l2_ready(t: Target) -> CheckResult:
    found, table = _service_problems(t, [BOT_CONTAINER])
    return _ready("L2", found, f"{BOT_CONTAINER} is listed", Evidence("services", table))


def l3_ready(t: Target) -> CheckResult:
    wanted = [s.strip() for s in t.value("EXPECTED_SERVICES", DEFAULT_SERVICES).split(",") if s.strip()]
    found, table = _service_problems(t, wanted)
    return _ready("L3", found, f"{', '.join(wanted)} listed", Evidence("services", table))


def l4_ready(t: Target, runbook_dir: Path | None) -> CheckResult:
    stmt = one_liners(runbook_dir)["L4"]
    valid = runbook_sql.check(t, [stmt], "L4 statement")
    found = [] if valid.ok else [valid]
    tables: tuple[str, ...] = (SETTINGS_TABLE,)
    try:
        with connect(t.db, t.redactor) as db:
            tables = dump_tables(db)
            _, dumped = audit_dump(db, None)
    except DbError as exc:
        found.append(givens.database_blocked(t, str(exc)))
    else:
        if dumped is not None:
            found.append(problem(f"audit tables cannot be streamed out: {dumped}", dump_cause(t, dumped)))
    checklist = revocation_checklist(t, "to be set by §5.5 step 1", "COPY … TO STDOUT of " + ", ".join(tables))
    return _ready(
        "L4",
        found,
        "statement valid, audit tables streamable, checklist produced",
        *valid.evidence,
        Evidence("L4 revocation and rotation checklist", checklist),
    )


READINESS: dict[str, Callable[[Target, Path | None], CheckResult]] = {
    "5.2.1": l1_ready,
    "5.3.1": lambda t, _: l2_ready(t),
    "5.4.1": lambda t, _: l3_ready(t),
    "5.5.1": l4_ready,
}
