"""Runbook §5.7 Emergency Shutdown Checklist (5.7.1–5.7.6): each row verified from evidence, with its time.

Sandbox (after the §5 drill, ``ops_checks.drills.emergency_checklist_drill``), each row reads what the emergency left:
- 5.7.1 the kill switch is ACTIVE now and the bot decided HALT (kill switch) at or after the L1 activation;
- 5.7.2 the bot is not running in the service list, its API does not answer, and no request reached the exchange
  since the stop;
- 5.7.3 a positions review (balances and open orders) was read from VALR and kept (``open_positions.json``);
- 5.7.4 the incident record for the emergency exists, opened after the activation, and the emergency's event was
  committed to circuit_breaker_events;
- 5.7.5 the alert webhook received a message naming the incident;
- 5.7.6 the incident record carries a root cause.
Live (read-only): readiness per row (``ready``): nothing is written, stopped or sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ops_checks.access import kill_switch_state, suite_tables
from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.access.valr.client import ValrClient, ValrError
from ops_checks.checks import causes, givens, runbook_sql
from ops_checks.checks.s1_preconditions import infra
from ops_checks.checks.s5_emergency import emergency
from ops_checks.core.http import Recorder
from ops_checks.core.result import Cause, CheckResult, Evidence, Status, failed, not_verified, passed

ROWS = {
    "5.7.1": "Kill switch activated",
    "5.7.2": "Trading services stopped",
    "5.7.3": "Open positions reviewed",
    "5.7.4": "Incident logged",
    "5.7.5": "Stakeholders notified",
    "5.7.6": "Root cause identified",
}
POSITIONS_FILE = "open_positions.json"

_FIRST_HALT = """
SELECT timestamp_utc FROM policy_decision_audit
WHERE timestamp_utc >= %s AND policy_decision = 'HALT' AND reason_code = 'HALT_KILL_SWITCH'
ORDER BY timestamp_utc, id LIMIT 1"""


def stamp(at: datetime | None) -> str:
    return at.isoformat(timespec="seconds") if at else "no time"


def _row(item: str, ok: bool, observed: str, at: datetime | None, detail: str, *ev: Evidence) -> CheckResult:
    if ok:
        return passed(observed, ROWS[item], f"{detail} (at {stamp(at)})", *ev)
    return failed(observed, ROWS[item], f"NOT done: {detail}", *ev)


def table(results: dict[str, CheckResult]) -> str:
    """The checklist as the runbook prints it, filled from the verified rows."""
    lines = ["| Step | Action | Completed | Time |", "|------|--------|-----------|------|"]
    for item, title in ROWS.items():
        r = results.get(item)
        done = "—" if r is None else ("☑" if r.ok else "☒")
        when = r.reason.rsplit("(at ", 1)[-1].rstrip(")") if r is not None and r.ok else ""
        lines.append(f"| {item.rsplit('.', 1)[-1]} | {title} | {done} | {when} |")
    return "\n".join(lines) + "\n"


# -- sandbox: evidence of each row --------------------------------------------------------------------------------
def kill_switch_row(t: Target, activated_at: datetime | None) -> CheckResult:
    if activated_at is None:
        return _row("5.7.1", False, "no activation", None, "the L1 kill switch was never activated")
    with connect(t.db, t.redactor) as db:
        state = kill_switch_state.read_state(db)
        halt = db.one(_FIRST_HALT, (activated_at,))
        ev = db.log.evidence("kill switch and first HALT")
    if not state.active:
        return _row("5.7.1", False, "INACTIVE", None, "the kill switch is no longer active", ev)
    if halt is None:
        return _row("5.7.1", False, state.describe(), None, "no HALT decision after the activation", ev)
    at = halt["timestamp_utc"]
    return _row("5.7.1", True, state.describe(), at, f"kill switch {state.describe()}, bot HALTed", ev)


def services_row(t: Target, stopped_at: datetime | None, bot_url: str, exchange_calls: list[datetime]) -> CheckResult:
    if stopped_at is None:
        return _row("5.7.2", False, "not stopped", None, "the trading services were never stopped")
    problems: list[str] = []
    try:
        listed = infra.list_services(t)
    except infra.ServicesError as exc:
        listed, problems = [], [f"service list unavailable: {exc}"]
    running = [s.name for s in listed if s.name == emergency.BOT_CONTAINER and s.state != "exited"]
    if running:
        problems.append(f"{emergency.BOT_CONTAINER} is running again")
    rec = Recorder(t.redactor)
    if emergency.api_answers(t, bot_url, rec):
        problems.append("the bot's API answers")
    after = [at for at in exchange_calls if at > stopped_at]
    if after:
        problems.append(f"{len(after)} exchange request(s) since the stop, the last at {stamp(max(after))}")
    listing = "\n".join(f"{s.name}\t{s.state}\t{s.health}" for s in listed)
    ev = [Evidence("services", listing or "none"), Evidence("HTTP", rec.render())]
    if problems:
        return _row("5.7.2", False, "; ".join(problems), None, "; ".join(problems), *ev)
    return _row("5.7.2", True, "stopped", stopped_at, "bot exited, API gone, no exchange traffic since", *ev)


def positions_row(capture_dir: Path | None, action: Any) -> CheckResult:
    """``action``: the incident capture's 6.1.6 record (the exchange read); the review file is the evidence."""
    if capture_dir is None or action is None:
        return _row("5.7.3", False, "no review", None, "no positions review was produced")
    path = capture_dir / POSITIONS_FILE
    if not action.ok or not path.exists():
        return _row("5.7.3", False, "not reviewed", None, action.detail, *action.evidence)
    try:
        review = json.loads(path.read_text(encoding="utf-8"))
        orders, balances = review["open_orders"], review["balances"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _row("5.7.3", False, "unreadable", None, f"the positions review is unreadable: {exc}")
    ev = Evidence("positions review (VALR balances and open orders)", json.dumps(review, indent=2), "application/json")
    detail = f"{len(balances)} balance(s), {len(orders)} open order(s) read from VALR"
    return _row("5.7.3", True, detail, datetime.fromisoformat(action.at), detail, ev, *action.evidence)


def incident_row(t: Target, incident_id: str | None, since: datetime | None, event: Any) -> CheckResult:
    """``event``: the committed circuit_breaker_events INSERT (what it wrote, and when) or the write's problem.

    The event is proven by its committed write, not read back: reading the audit table is 5.5.1's concern."""
    if incident_id is None or since is None:
        return _row("5.7.4", False, "no record", None, "no incident record was opened")
    with connect(t.db, t.redactor) as db:
        row = db.one("SELECT incident_id, opened_at, trigger FROM ops_incidents WHERE incident_id = %s", (incident_id,))
        ev = db.log.evidence("incident record")
    evs = [ev, Evidence("circuit_breaker_events row", str(event))]
    if row is None:
        return _row("5.7.4", False, "no record", None, f"{incident_id} is not in ops_incidents", *evs)
    if row["opened_at"] < since:
        return _row("5.7.4", False, "stale record", None, f"{incident_id} predates the emergency", *evs)
    if not isinstance(event, dict):
        return _row("5.7.4", False, "no event", None, f"no circuit_breaker_events row: {event}", *evs)
    detail = f"{incident_id} recorded, event {event['event_type']} committed at {stamp(event['at'])}"
    return _row("5.7.4", True, incident_id, row["opened_at"], detail, *evs)


def notified_row(incident_id: str | None, delivered: list[dict[str, Any]], action: Any) -> CheckResult:
    """``delivered``: what the alert webhook received; ``action``: the capture's 6.1.5 record."""
    if incident_id is None:
        return _row("5.7.5", False, "no incident", None, "no incident to notify about")
    got = [m for m in delivered if incident_id in str(m.get("content", ""))]
    ev = [Evidence("alert webhook received", "\n".join(str(m.get("content", "")) for m in delivered) or "nothing")]
    if action is not None:
        ev.extend(action.evidence)
    if not got:
        why = action.detail if action is not None else "no notification sent"
        return _row("5.7.5", False, "not delivered", None, f"no alert naming {incident_id} was delivered: {why}", *ev)
    at = datetime.fromisoformat(action.at) if action is not None else None
    return _row("5.7.5", True, f"{len(got)} alert(s)", at, f"alert naming {incident_id} delivered", *ev)


def root_cause_row(t: Target, incident_id: str | None) -> CheckResult:
    if incident_id is None:
        return _row("5.7.6", False, "no incident", None, "no incident record to carry a root cause")
    with connect(t.db, t.redactor) as db:
        row = db.one("SELECT root_cause, documented_at FROM ops_incidents WHERE incident_id = %s", (incident_id,))
        ev = db.log.evidence("root cause")
    cause = " ".join(((row or {}).get("root_cause") or "").split())
    if row is None or not cause:
        return _row("5.7.6", False, "blank", None, f"{incident_id} carries no root cause", ev)
    return _row("5.7.6", True, t.redactor.text(cause), row["documented_at"], f"{incident_id}: {cause}", ev)


# -- live: readiness of each row (read-only) ----------------------------------------------------------------------
def _kill_switch_ready(t: Target, runbook_dir: Path | None) -> CheckResult:
    valid = runbook_sql.check(t, [emergency.one_liners(runbook_dir)["L1"]], "L1 one-liner")
    return _ready("5.7.1", None if valid.ok else valid, "L1 one-liner valid and permitted", *valid.evidence)


def _services_ready(t: Target, _: Path | None) -> CheckResult:
    try:
        listed = infra.list_services(t)
    except infra.ServicesError as exc:
        return _ready("5.7.2", infra.services_unreadable(exc), "")
    names = [s.name for s in listed]
    found = None
    if emergency.BOT_CONTAINER not in names:
        found = emergency.problem(f"{emergency.BOT_CONTAINER} is not in the service list")
    return _ready(
        "5.7.2", found, f"service list shows {emergency.BOT_CONTAINER}", Evidence("services", "\n".join(names))
    )


def _positions_ready(t: Target, _: Path | None) -> CheckResult:
    rec = Recorder(t.redactor)
    client = ValrClient(
        t.valr_base_url, t.secret("VALR_API_KEY"), t.secret("VALR_API_SECRET"), transport=t.valr_transport, recorder=rec
    )
    try:
        balances, orders = client.balances(), client.open_orders()
    except ValrError as exc:
        cause = causes.valr_credentials_unset(t) or causes.valr(t, exc)
        found = emergency.problem(f"VALR cannot be read: {cause.detail}", cause)
        return _ready("5.7.3", found, "", Evidence("HTTP", rec.render()))
    detail = f"{len(balances)} balance(s), {len(orders)} open order(s) readable with the key"
    return _ready("5.7.3", None, detail, Evidence("HTTP", rec.render()))


_PRIVILEGES = """
SELECT to_regclass('opscheck.ops_incidents') IS NOT NULL AS incidents,
       to_regclass('circuit_breaker_events') IS NOT NULL AS events,
       CASE WHEN to_regclass('opscheck.ops_incidents') IS NULL THEN false
            ELSE has_table_privilege(current_user, 'opscheck.ops_incidents', 'INSERT') END AS incidents_insert,
       CASE WHEN to_regclass('circuit_breaker_events') IS NULL THEN false
            ELSE has_table_privilege(current_user, 'circuit_breaker_events', 'INSERT') END AS events_insert,
       EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'ops_incidents'
               AND column_name = 'root_cause' AND table_schema = 'opscheck') AS root_cause,
       CASE WHEN to_regclass('opscheck.ops_incidents') IS NULL THEN false
            ELSE has_any_column_privilege(current_user, 'opscheck.ops_incidents', 'UPDATE') END AS incidents_update"""


def privileges(t: Target) -> tuple[dict[str, Any] | None, CheckResult | None, Evidence | None]:
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one(_PRIVILEGES)
            return row, None, db.log.evidence("privileges (no write)")
    except DbError as exc:
        return None, givens.database_blocked(t, str(exc)), None


def _grant(t: Target, table: str, privilege: str) -> CheckResult:
    role = t.db.user or "the bot's role"
    return emergency.problem(
        f"the role may not {privilege} {'into ' if privilege == 'INSERT' else ''}{table}",
        Cause(
            "grant",
            f"{table} for {role}",
            f"the role {role} may not {privilege} {table}",
            f'GRANT {privilege} ON {table} TO "{role}";',
        ),
    )


def _suite_missing() -> CheckResult:
    return suite_tables.unverifiable(suite_tables.reason(["ops_incidents"]), "ops_incidents")


def incident_problem(t: Target, row: dict[str, Any]) -> CheckResult | None:
    if not row["incidents"]:
        return _suite_missing()
    if not row["incidents_insert"]:
        return _grant(t, "opscheck.ops_incidents", "INSERT")
    if not row["events"] or not row["events_insert"]:
        return _grant(t, "circuit_breaker_events", "INSERT")
    return None


def root_cause_problem(t: Target, row: dict[str, Any]) -> CheckResult | None:
    if not row["incidents"]:
        return _suite_missing()
    if not row["root_cause"]:
        return emergency.problem(
            "the incident record has no root_cause field",
            Cause(
                "suite_schema_version",
                "opscheck.ops_incidents.root_cause",
                "the suite's ops_incidents has no root_cause column (an older `opscheck init`)",
                "opscheck init --env-file <the env file> (upgrades the suite's schema), then re-run",
            ),
        )
    if not row["incidents_update"]:
        return _grant(t, "opscheck.ops_incidents", "UPDATE")
    return None


def _incident_ready(t: Target, _: Path | None) -> CheckResult:
    row, problem, ev = privileges(t)
    problem = problem or incident_problem(t, row or {})
    return _ready("5.7.4", problem, "ops_incidents and circuit_breaker_events writable", *([ev] if ev else []))


def _notify_ready(t: Target, _: Path | None) -> CheckResult:
    url = t.secret("DISCORD_WEBHOOK_URL").reveal()
    problem = None
    if not url.startswith("https://"):
        why = "DISCORD_WEBHOOK_URL is not set" if not url else "DISCORD_WEBHOOK_URL is not an https URL"
        problem = emergency.problem(
            why,
            Cause(
                "setting",
                "DISCORD_WEBHOOK_URL",
                why,
                "DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/<id>/<token> in the env file",
            ),
        )
    return _ready("5.7.5", problem, "DISCORD_WEBHOOK_URL set (delivery is proven by 1.4.1)")


def _root_cause_ready(t: Target, _: Path | None) -> CheckResult:
    row, problem, ev = privileges(t)
    problem = problem or root_cause_problem(t, row or {})
    return _ready("5.7.6", problem, "ops_incidents.root_cause exists and is writable", *([ev] if ev else []))


def _ready(item: str, problem: CheckResult | None, observed: str, *ev: Evidence) -> CheckResult:
    """A row's readiness: passed, or the status, cause and blocked_by of what does not hold (``problem``)."""
    expected = f"{ROWS[item]}: ready"
    if problem is None:
        return passed(observed, expected, f"ready: {observed}", *ev)
    if problem.status is Status.NOT_VERIFIED:
        return not_verified(
            problem.summary(), *ev, cause=problem.cause, blocked_by=problem.blocked_by, expected=expected
        )
    return failed(
        "not ready",
        expected,
        f"not ready: {problem.summary()}",
        *ev,
        cause=problem.cause,
        blocked_by=problem.blocked_by,
    )


READINESS: dict[str, Callable[[Target, Path | None], CheckResult]] = {
    "5.7.1": _kill_switch_ready,
    "5.7.2": _services_ready,
    "5.7.3": _positions_ready,
    "5.7.4": _incident_ready,
    "5.7.5": _notify_ready,
    "5.7.6": _root_cause_ready,
}


def ready(t: Target, item: str, runbook_dir: Path | None) -> CheckResult:
    return READINESS[item](t, runbook_dir)
