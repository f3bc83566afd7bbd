"""Runbook §6.6 Incident Report, pre-filled from the record, the audit rows and trading_orders.

Timeline: the circuit breaker events, the operator actions recorded by the suite (``opscheck.ops_operator_actions``:
transition, rollback, kill switch, resume; the bot's policy_decision_audit cannot hold them) and the record's own
times. Impact: the realised P&L (``trading_orders.realized_pnl_zar``, Decimal) and the number of
LIVE orders from an hour before the incident opened until it was resumed (or now). Blanks stay for what only people
can write (summary, resolution, prevention, action items, approvals).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.procedures import incident

_TIMELINE = """
SELECT created_at AS at, 'circuit breaker: ' || event_type || coalesce(' (' || trigger_reason || ')', '') AS event
FROM circuit_breaker_events WHERE created_at BETWEEN %(start)s AND %(end)s
UNION ALL
SELECT recorded_at, 'operator action: ' || action || ' by ' || operator || coalesce(' (witness ' || witness || ')', '')
FROM opscheck.ops_operator_actions
WHERE recorded_at BETWEEN %(start)s AND %(end)s
ORDER BY 1 LIMIT 200"""

_IMPACT = """
SELECT coalesce(sum(realized_pnl_zar), 0) AS pnl, count(*) AS trades
FROM trading_orders WHERE execution_mode = 'LIVE' AND created_at BETWEEN %(start)s AND %(end)s"""


def _money(value: Decimal) -> str:
    sign = "-" if value < 0 else ""
    return f"{sign}R {abs(value):,.2f}"


def build(t: Target, incident_id: str) -> str:
    rec = incident.load(t, incident_id)
    opened: datetime = rec["opened_at"]
    end: datetime = rec["resumed_at"] or datetime.now(UTC)
    window = {"start": opened - incident.WINDOW, "end": end}
    try:
        with connect(t.db, t.redactor) as db:
            events = db.rows(_TIMELINE, window)
            impact = db.one(_IMPACT, window)
    except DbError as exc:
        raise incident.IncidentError(f"cannot read the audit rows: {exc}") from None
    pnl = Decimal(impact["pnl"]) if impact else Decimal(0)
    trades = int(impact["trades"]) if impact else 0
    duration = end - opened
    rows: list[tuple[datetime, str]] = [(e["at"], e["event"]) for e in events]
    rows.append((opened, f"Incident detected and recorded ({rec['detection']})"))
    if rec.get("documented_at"):
        rows.append((rec["documented_at"], f"Root cause documented by {rec['documented_by']}"))
    if rec.get("resumed_at"):
        rows.append((rec["resumed_at"], f"Trading resumed by {rec['resumed_by']}"))
    rows.sort(key=lambda r: r[0])
    actions: dict[str, Any] = rec.get("actions") or {}
    lines = [
        "# Incident Report",
        "",
        f"**Incident ID:** {incident_id}",
        f"**Date/Time:** {opened.astimezone(UTC).strftime('%Y-%m-%d %H:%M')} UTC",
        f"**Duration:** {_duration(duration)}{'' if rec.get('resumed_at') else ' (ongoing)'}",
        "**Severity:** P1/P2/P3/P4 (to be assigned)",
        "",
        "## Summary",
        f"Trigger: {rec['trigger']}. Detection: {rec['detection']}.",
        "",
        "## Timeline",
        "| Time (UTC) | Event |",
        "|------------|-------|",
        *(f"| {at.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')} | {t.redactor.text(ev)} |" for at, ev in rows),
        "",
        "## Root Cause",
        rec.get("root_cause") or "[NOT YET DOCUMENTED]",
        "",
        "## Impact",
        f"- Financial: {_money(pnl)}",
        f"- Trades affected: {trades}",
        f"- Downtime: {_duration(duration)}",
        "",
        "## Resolution",
        rec.get("fix") or "[What was done to resolve the incident]",
        "",
        "## Prevention",
        "[What changes will prevent recurrence]",
        "",
        "## Immediate actions (§6.1)",
        *(
            f"- {k} {incident.ACTIONS.get(k, '')}: {v.get('status')} by {v.get('by')} at {v.get('at')}"
            for k, v in sorted(actions.items())
        ),
        "",
        f"State capture: {rec.get('capture_dir')} (manifest sha256 {rec.get('capture_sha256')})",
        "",
        "## Action Items",
        "| # | Action | Owner | Due Date | Status |",
        "|---|--------|-------|----------|--------|",
        "| 1 | [Action] | [Name] | YYYY-MM-DD | ☐ |",
        "",
        "## Approvals",
        f"- Operator: {rec['opened_by']} Date: {opened.date().isoformat()}",
        "- Reviewer: ____________ Date: ____________",
    ]
    return "\n".join(lines) + "\n"


def _duration(d: timedelta) -> str:
    minutes = int(d.total_seconds() // 60)
    return f"{minutes // 60} hours {minutes % 60} minutes"


def write(t: Target, incident_id: str, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(build(t, incident_id), encoding="utf-8")
    return out
