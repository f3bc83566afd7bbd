"""Runbook §6.1 / §6.2 / §6.3: open an incident (INC-YYYYMMDD-NNN), capture the system state, document the cause.

``capture`` walks §6.1's six actions in the first 30 minutes and records each with who, when and what was found:

- 6.1.1 the kill switch is active (if it is not, it is activated now, the safe direction, and the row fails);
- 6.1.2 the trigger (given, or read from the circuit breaker) and how it was detected are recorded in the
  incident record (``ops_incidents``);
- 6.1.3 §6.2's capture: the last hour of policy decisions, circuit breaker events and orders, and the settings
  row, each streamed with ``COPY … TO STDOUT`` as CSV (no ``docker exec -it``: DESIGN.md §8.5);
- 6.1.4 the bot's log lines of the last hour (redacted);
- 6.1.5 the stakeholders are notified on the alert webhook;
- 6.1.6 open orders and balances are read from the exchange (signed reads) for the position assessment.

Every file is listed with its SHA-256 in ``CHECKSUMS.sha256``; the record keeps the manifest's digest.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from ops_checks.access import kill_switch_state, suite_tables
from ops_checks.access.config import Target
from ops_checks.access.db import Db, DbError, connect
from ops_checks.access.valr.client import ValrClient, ValrError
from ops_checks.checks import givens
from ops_checks.checks.s1_preconditions import logs
from ops_checks.core.http import HttpError, Recorder, request
from ops_checks.core.result import CheckResult, Evidence, failed, passed
from ops_checks.procedures import backup

ID = re.compile(r"^INC-\d{8}-\d{3}$")
WINDOW = timedelta(hours=1)
ACTIONS = {
    "6.1.1": "Confirm kill switch is active",
    "6.1.2": "Document incident trigger",
    "6.1.3": "Capture current system state",
    "6.1.4": "Export relevant logs",
    "6.1.5": "Notify stakeholders",
    "6.1.6": "Assess open positions",
}
_EXPORTS = (
    ("policy_decisions", "policy_decision_audit", "timestamp_utc"),
    ("circuit_breaker_events", "circuit_breaker_events", "created_at"),
    ("trading_orders", "trading_orders", "created_at"),
)


class IncidentError(Exception):
    """The incident command cannot proceed; ``str()`` is one line."""


class NoSuchIncident(IncidentError):
    """The id is not an incident id, or no incident has it."""


@dataclass
class Action:
    item: str
    ok: bool
    detail: str
    by: str
    at: str
    evidence: list[Evidence] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # structured facts a later step compares against

    def as_json(self) -> dict[str, Any]:
        out = {"status": "passed" if self.ok else "failed", "detail": self.detail, "by": self.by, "at": self.at}
        return {**out, **self.facts}


@dataclass
class Capture:
    incident_id: str
    dir: Path
    actions: dict[str, Action] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def result(self, item: str) -> CheckResult:
        a = self.actions.get(item)
        if a is None:
            return failed("not done", ACTIONS[item], f"{ACTIONS[item]}: not reached")
        ev = [*a.evidence, Evidence("§6.1 actions", self.table(), "text/markdown")]
        if a.ok:
            return passed("done", ACTIONS[item], f"{a.detail} ({a.by}, {a.at})", *ev)
        return failed("failed", ACTIONS[item], a.detail, *ev, cause=givens.cause_in(a.detail))

    def table(self) -> str:
        lines = [
            f"Incident {self.incident_id}: §6.1 immediate actions",
            "",
            "| # | Action | Owner | Status | Time |",
            "|---|--------|-------|--------|------|",
        ]
        for item, title in ACTIONS.items():
            a = self.actions.get(item)
            status = "—" if a is None else ("☑" if a.ok else "☒ " + a.detail)
            lines.append(f"| {item} | {title} | {a.by if a else ''} | {status} | {a.at if a else ''} |")
        return "\n".join(lines) + "\n"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _next_id(db: Db, day: datetime) -> str:
    prefix = f"INC-{day.strftime('%Y%m%d')}-"
    row = db.one("SELECT max(incident_id) AS last FROM ops_incidents WHERE incident_id LIKE %s", (prefix + "%",))
    last = int(row["last"][-3:]) if row and row["last"] else 0
    if last >= 999:
        raise IncidentError("more than 999 incidents today")
    return f"{prefix}{last + 1:03d}"


def _trigger(db: Db) -> str:
    """The trigger as the database shows it: the circuit breaker's reason and its latest event."""
    state = db.one("SELECT circuit_breaker_active, circuit_breaker_reason FROM system_settings WHERE id = 1")
    event = db.one(
        "SELECT event_type, trigger_reason, created_at FROM circuit_breaker_events ORDER BY created_at DESC, id DESC"
        " LIMIT 1"
    )
    parts = []
    if state and state["circuit_breaker_reason"]:
        parts.append(f"circuit breaker {state['circuit_breaker_reason']}")
    if event:
        parts.append(f"last event {event['event_type']} ({event['trigger_reason']}) at {event['created_at']}")
    return "; ".join(parts)


def capture(
    t: Target,
    *,
    out_root: Path,
    operator: str,
    detection: str,
    trigger: str | None = None,
    window: timedelta = WINDOW,
) -> Capture:
    """§6.1 and §6.2 once; raises IncidentError only when no incident record can be opened at all."""
    opened = datetime.now(UTC)
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            state = kill_switch_state.read_state(db)
            cause = (trigger or "").strip() or _trigger(db)
            incident_id = _next_id(db, opened)
            db.rows(
                "INSERT INTO ops_incidents (incident_id, opened_by, trigger, detection) VALUES (%s, %s, %s, %s)",
                (incident_id, operator, cause, detection.strip()),
            )
            record_ev = db.log.evidence("incident record")
    except DbError as exc:
        why = suite_tables.not_installed_reason(exc)
        raise IncidentError(why or f"cannot open the incident record: {t.redactor.text(str(exc))}") from None
    out = out_root / f"{incident_id}_{opened.strftime('%Y%m%d_%H%M%S')}"
    out.mkdir(parents=True, exist_ok=False, mode=0o700)
    cap = Capture(incident_id, out)

    def record(item: str, ok: bool, detail: str, *ev: Evidence) -> None:
        cap.actions[item] = Action(item, ok, t.redactor.text(detail), operator, now_iso(), list(ev))

    _kill_switch(t, cap, state, operator, record)
    documented = bool(cause) and bool(detection.strip())
    record(
        "6.1.2",
        documented,
        f"trigger: {cause or 'NOT DOCUMENTED'}; detection: {detection.strip() or 'NOT DOCUMENTED'}",
        record_ev,
    )
    _state(t, cap, opened - window, record)
    _logs(t, cap, opened - window, record)
    _notify(t, cap, cause, state, record)
    _positions(t, cap, record)
    manifest = "".join(f"{d}  {name}\n" for name, d in sorted(cap.files.items()))
    (out / "CHECKSUMS.sha256").write_text(manifest, encoding="utf-8")
    (out / "capture.json").write_text(
        json.dumps(
            {"incident_id": incident_id, "actions": {k: a.as_json() for k, a in cap.actions.items()}, "rows": cap.rows},
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            db.rows(
                "UPDATE ops_incidents SET capture_dir = %s, capture_sha256 = %s, actions = %s WHERE incident_id = %s",
                (
                    str(out),
                    hashlib.sha256(manifest.encode()).hexdigest(),
                    Jsonb({k: a.as_json() for k, a in cap.actions.items()}),
                    incident_id,
                ),
            )
    except DbError as exc:
        for a in cap.actions.values():
            a.evidence.append(Evidence("record update failed", t.redactor.text(str(exc))))
    return cap


def _kill_switch(t: Target, cap: Capture, state: kill_switch_state.KillSwitchState, operator: str, record: Any) -> None:
    """§6.1 Step 1. The hold's reason is kept with the record: the resume releases only that hold (compare-and-set),
    never one somebody put in place after the capture."""
    if state.active:
        record("6.1.1", True, f"kill switch {state.describe()}")
        cap.actions["6.1.1"].facts["kill_switch_reason"] = state.reason
        return
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            if kill_switch_state.activate_if_inactive(db, f"INCIDENT {cap.incident_id}") is None:
                # somebody activated it since it was read: theirs, kept as it is
                record("6.1.1", True, f"kill switch {kill_switch_state.holder(db)}")
                cap.actions["6.1.1"].facts["kill_switch_reason"] = kill_switch_state.read_state(db).reason
                return
            kill_switch_state.record_event(
                db,
                activated=True,
                reason=f"INCIDENT {cap.incident_id}",
                operator=operator,
                via="opscheck incident capture",
            )
        record("6.1.1", False, "the kill switch was NOT active when the incident was captured: activated it now")
        cap.actions["6.1.1"].facts["kill_switch_reason"] = f"INCIDENT {cap.incident_id}"
    except DbError as exc:
        record("6.1.1", False, f"the kill switch is NOT active and could not be activated: {exc}")


def _state(t: Target, cap: Capture, since: datetime, record: Any) -> None:
    try:
        with connect(t.db, t.redactor, read_only=True) as db:
            for name, table, column in _EXPORTS:
                query = sql.SQL("SELECT * FROM {t} WHERE {c} > {s} ORDER BY {c} DESC").format(
                    t=sql.Identifier(table), c=sql.Identifier(column), s=sql.Literal(since)
                )
                cap.rows[name], cap.files[f"{name}.csv"] = backup.stream_copy(db, query, cap.dir / f"{name}.csv")
            q = sql.SQL("SELECT * FROM system_settings WHERE id = 1")
            cap.rows["system_settings"], cap.files["system_settings.csv"] = backup.stream_copy(
                db, q, cap.dir / "system_settings.csv"
            )
            ev = db.log.evidence("§6.2 exports (COPY TO STDOUT)")
    except DbError as exc:
        record("6.1.3", False, f"state capture failed: {exc}")
        return
    counts = ", ".join(f"{k} {v}" for k, v in cap.rows.items())
    record("6.1.3", True, f"captured the last hour as CSV ({counts} rows), checksummed", ev)


def _logs(t: Target, cap: Capture, since: datetime, record: Any) -> None:
    try:
        lines = [
            f"{ln.at.isoformat()} [{ln.file}] {t.redactor.text(ln.text)}" for ln in logs.recent_lines(t.log_dir, since)
        ]
    except (logs.LogError, OSError) as exc:
        record("6.1.4", False, f"bot logs not exported: {exc}")
        return
    data = ("\n".join(lines) + "\n").encode("utf-8")
    (cap.dir / "bot_logs.txt").write_bytes(data)
    cap.files["bot_logs.txt"] = hashlib.sha256(data).hexdigest()
    if not lines:
        record("6.1.4", False, "the bot's logs have no line from the last hour")
        return
    record(
        "6.1.4",
        True,
        f"{len(lines)} log lines of the last hour exported",
        Evidence("bot log tail", "\n".join(lines[-40:])),
    )


def _notify(t: Target, cap: Capture, cause: str, state: kill_switch_state.KillSwitchState, record: Any) -> None:
    url = t.secret("DISCORD_WEBHOOK_URL")
    if not url:
        record("6.1.5", False, "DISCORD_WEBHOOK_URL is not set: stakeholders not notified")
        return
    rec = Recorder(t.redactor)
    text = f"INCIDENT {cap.incident_id} opened: {cause or 'trigger not documented'}; trading halted (kill switch)"
    try:
        resp = request("POST", url.reveal(), recorder=rec, transport=t.hooks_transport, json={"content": text})
    except HttpError as exc:
        record("6.1.5", False, f"notification not delivered: {exc}", Evidence("HTTP", rec.render()))
        return
    ok = 200 <= resp.status_code < 300
    record(
        "6.1.5",
        ok,
        f"alert webhook answered HTTP {resp.status_code}" + ("" if ok else ": NOT notified"),
        Evidence("HTTP", rec.render()),
    )


def _positions(t: Target, cap: Capture, record: Any) -> None:
    rec = Recorder(t.redactor)
    client = ValrClient(
        t.valr_base_url, t.secret("VALR_API_KEY"), t.secret("VALR_API_SECRET"), transport=t.valr_transport, recorder=rec
    )
    try:
        orders = client.open_orders()
        balances = client.balances()
    except ValrError as exc:
        record("6.1.6", False, f"open positions not assessed: {exc}", Evidence("HTTP", rec.render()))
        return
    data = json.dumps(
        {
            "open_orders": orders,
            "balances": [
                {"currency": b.currency, "total": str(b.total), "available": str(b.available)} for b in balances
            ],
        },
        indent=2,
        default=str,
    ).encode("utf-8")
    (cap.dir / "open_positions.json").write_bytes(data)
    cap.files["open_positions.json"] = hashlib.sha256(data).hexdigest()
    record(
        "6.1.6",
        True,
        f"{len(orders)} open order(s), {len(balances)} balance(s) read from the exchange",
        Evidence("HTTP", rec.render()),
    )


def load(t: Target, incident_id: str, *, read_only: bool = True) -> dict[str, Any]:
    if not ID.match(incident_id):
        raise NoSuchIncident(f"not an incident id: {incident_id!r} (INC-YYYYMMDD-NNN)")
    try:
        with connect(t.db, t.redactor, read_only=read_only) as db:
            row = db.one("SELECT * FROM ops_incidents WHERE incident_id = %s", (incident_id,))
    except DbError as exc:
        why = suite_tables.not_installed_reason(exc)
        raise IncidentError(why or f"cannot read the incident record: {exc}") from None
    if row is None:
        raise NoSuchIncident(f"no incident {incident_id}")
    return row


def document(t: Target, incident_id: str, *, root_cause: str, fix: str, operator: str) -> None:
    """§6.3: the root cause and the fix (or why none applies) go into the record."""
    load(t, incident_id)
    try:
        with connect(t.db, t.redactor, read_only=False) as db:
            db.rows(
                "UPDATE ops_incidents SET root_cause = %s, fix = %s, documented_by = %s, documented_at = now()"
                " WHERE incident_id = %s",
                (root_cause.strip() or None, fix.strip() or None, operator, incident_id),
            )
    except DbError as exc:
        raise IncidentError(f"cannot update the incident record: {exc}") from None
