"""sop.monthly.4 "Update contact list": the escalation contacts are present, well formed and reviewed this month.

``ESCALATION_CONTACTS_FILE`` names a JSON file::

    {"reviewed_at": "2026-11-20T09:00:00Z", "reviewed_by": "ops lead",
     "contacts": [{"priority": "P1", "role": "Primary Operator", "name": "…", "phone": "+27…"},
                  {"priority": "P2", "role": "Secondary Operator", "name": "…", "phone": "+27…"},
                  {"priority": "P3", "role": "System Administrator", "name": "…", "email": "…", "slack": "#ops"}]}

Runbook §5.6 fixes the priorities: P1 and P2 are reached by phone/SMS, P3 by email or Slack. Every phone is E.164,
every email an address, every Slack handle ``#channel`` or ``@user``. The evidence masks the addresses.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_checks.access.config import Target
from ops_checks.core import safe_read
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed

ENV = "ESCALATION_CONTACTS_FILE"
REVIEW_DAYS = 31
REQUIRED = {"P1": ("phone",), "P2": ("phone",), "P3": ("email", "slack")}  # priority -> any of these methods
FORMATS = {
    "phone": re.compile(r"^\+[1-9]\d{7,14}$"),
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"),
    "slack": re.compile(r"^[#@][a-z0-9._-]{1,80}$"),
}
EXPECTED = f"P1–P3 contacts well formed, reviewed within {REVIEW_DAYS} days"


def mask(method: str, value: str) -> str:
    if method == "phone":
        return value[:3] + "*" * max(len(value) - 6, 0) + value[-3:]
    if method == "email":
        user, _, domain = value.partition("@")
        return f"{user[:1]}***@{domain}"
    return value


def contact_problems(doc: Any, now: datetime) -> list[str]:
    """Every problem with a parsed contacts document (empty: fine)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("contacts"), list):
        return ['not a {"contacts": [...]} document']
    problems = []
    raw = doc.get("reviewed_at")
    try:
        reviewed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        if reviewed.tzinfo is None:
            raise ValueError
        days = (now - reviewed).total_seconds() / 86400
        if days > REVIEW_DAYS:
            problems.append(f"last reviewed {days:.0f} days ago ({reviewed:%Y-%m-%d})")
        elif days < -1:
            problems.append(f"reviewed_at {reviewed:%Y-%m-%d} is in the future")
    except ValueError:
        problems.append("reviewed_at missing or not an ISO timestamp with a time zone")
    if not str(doc.get("reviewed_by") or "").strip():
        problems.append("reviewed_by missing")
    by_priority: dict[str, list[dict[str, Any]]] = {}
    for n, c in enumerate(doc["contacts"], 1):
        if not isinstance(c, dict):
            problems.append(f"contact {n} is not an object")
            continue
        label = f"{c.get('priority', '?')} {c.get('role') or c.get('name') or f'contact {n}'}"
        if not str(c.get("name") or "").strip():
            problems.append(f"{label}: no name")
        for method, pattern in FORMATS.items():
            value = c.get(method)
            if value is not None and not pattern.match(str(value)):
                problems.append(f"{label}: malformed {method}")
        by_priority.setdefault(str(c.get("priority")), []).append(c)
    for prio, methods in REQUIRED.items():
        reachable = [
            c for c in by_priority.get(prio, []) if any(c.get(m) and FORMATS[m].match(str(c[m])) for m in methods)
        ]
        if not reachable:
            problems.append(f"no {prio} contact reachable by {' or '.join(methods)}")
    return problems


def _listing(doc: Any) -> str:
    if not isinstance(doc, dict) or not isinstance(doc.get("contacts"), list):
        return "(unreadable)"
    lines = [f"reviewed_at {doc.get('reviewed_at')} by {doc.get('reviewed_by')}"]
    for c in doc["contacts"]:
        if isinstance(c, dict):
            ways = ", ".join(f"{m} {mask(m, str(c[m]))}" for m in FORMATS if c.get(m))
            lines.append(f"{c.get('priority')} {c.get('role', '')}: {c.get('name', '')} ({ways or 'no method'})")
    return "\n".join(lines)


def contacts_current(t: Target) -> CheckResult:
    """sop.monthly.4: the escalation contact list is present, well formed and reviewed within 31 days."""
    raw = t.value(ENV)
    if not raw:
        detail = f"{ENV} is not set: no escalation contact list"
        return not_verified(
            detail,
            expected=EXPECTED,
            cause=Cause(
                "setting", ENV, detail, f"{ENV}=<the JSON escalation contact list> in the env file (README: {ENV})"
            ),
        )
    path = Path(raw)
    remedy = (
        f"update {path}: P1/P2 with an E.164 phone, P3 with an email or Slack handle (runbook §5.6), then set "
        "reviewed_at (ISO time with zone) and reviewed_by"
    )
    try:
        doc = json.loads(safe_read.read_text(path))
    except safe_read.UnsafeFile as exc:
        detail = f"contact list unreadable: {exc}"
        return failed(
            "unreadable",
            EXPECTED,
            detail,
            cause=Cause(
                "contacts", "escalation contact list", detail, f"make {path} a readable regular file; " + remedy
            ),
        )
    except ValueError as exc:
        detail = f"contact list {path} is not JSON: {str(exc).splitlines()[0]}"
        return failed("malformed", EXPECTED, detail, cause=Cause("contacts", "escalation contact list", detail, remedy))
    ev = Evidence("escalation contacts (masked)", t.redactor.text(_listing(doc)))
    problems = contact_problems(doc, datetime.now(UTC))
    if problems:
        detail = f"contact list: {'; '.join(problems)}"
        return failed(
            "; ".join(problems),
            EXPECTED,
            detail,
            ev,
            cause=Cause("contacts", "escalation contact list", detail, remedy),
        )
    observed = f"{len(doc['contacts'])} contact(s), P1–P3 reachable, reviewed {doc['reviewed_at']}"
    return passed(observed, EXPECTED, observed, ev)
