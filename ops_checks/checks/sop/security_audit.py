"""sop.monthly.2 "Security audit": the bot runs with least privilege, read from the systems themselves.

- the bot's database role (``BOT_DB_USER``, else the connecting role) has no superuser, CREATEROLE, CREATEDB,
  REPLICATION or BYPASSRLS attribute;
- it cannot DELETE or TRUNCATE any audit table (runbook 7.6.2's check, reused);
- the VALR trading key carries no Withdraw permission (runbook 2.1.1's check, reused).
The key files' modes are sop.1.1 and sop.3.1, checked in every preflight, so they are not repeated here.
"""

from __future__ import annotations

from typing import Any

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.checks.bot_sources import db_unreadable
from ops_checks.checks.s2_environment import secrets_check
from ops_checks.checks.s7_audit import audit_retention
from ops_checks.core.result import Cause, CheckResult, Evidence, Status, failed, not_verified, passed

EXPECTED = "least privilege: no role attributes, no audit DELETE, no Withdraw"
ATTRIBUTES = {
    "rolsuper": "SUPERUSER",
    "rolcreaterole": "CREATEROLE",
    "rolcreatedb": "CREATEDB",
    "rolreplication": "REPLICATION",
    "rolbypassrls": "BYPASSRLS",
}

_ROLE = """
SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls
FROM pg_roles WHERE rolname = COALESCE(NULLIF(%s, ''), current_user)"""


def role_problems(row: dict[str, Any] | None, role: str) -> list[str]:
    if row is None:
        return [f"role {role or '(current)'} not found"]
    granted = [name for col, name in ATTRIBUTES.items() if row.get(col)]
    return [f"role {row['rolname']} has {', '.join(granted)}"] if granted else []


def role_attributes(t: Target) -> CheckResult:
    expected = "no " + "/".join(ATTRIBUTES.values())
    role = t.value("BOT_DB_USER")
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one(_ROLE, (role,))
            ev = db.log.evidence()
    except DbError as exc:
        return db_unreadable(t, exc, "pg_roles", expected)
    problems = role_problems(row, role)
    if problems or row is None:  # role_problems names a missing role
        name = row["rolname"] if row else (role or "the bot's role")
        return failed(
            "; ".join(problems),
            expected,
            "; ".join(problems),
            ev,
            cause=Cause(
                "privilege",
                f"role {name}",
                "; ".join(problems),
                f'ALTER ROLE "{name}" NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION NOBYPASSRLS;'
                if row
                else f"set BOT_DB_USER to the bot's database role (now {role or 'unset'})",
            ),
        )
    return passed(f"role {row['rolname']}: no elevated attributes", expected, "", ev)


def audit(t: Target) -> CheckResult:
    """sop.monthly.2: every least-privilege finding at once; fails naming each one. A finding of a check another item
    owns (7.6.2 the audit tables, 2.1.1 the VALR key) rests on that item (``blocked_by``) and keeps its cause; a
    part that could not be checked makes the audit not verified."""
    parts = (
        ("database role", role_attributes(t), ()),
        ("audit tables", audit_retention.bot_cannot_delete(t), ("7.6.2",)),
        ("VALR key", secrets_check.valr_api_key(t), ("2.1.1",)),
    )
    summary = "\n".join(f"{name}: {'ok' if r.ok else 'FINDING'} — {r.observed}" for name, r, _ in parts)
    evidence = [Evidence("security audit", t.redactor.text(summary))] + [e for _, r, _ in parts for e in r.evidence]
    open_parts = [(name, r, owner) for name, r, owner in parts if not r.ok]
    findings = [f"{name}: {r.reason or r.observed}" for name, r, _ in open_parts]
    blocked_by = [item for _, _, owner in open_parts for item in owner]
    cause = next((r.cause for _, r, _ in open_parts if r.cause is not None), None)
    if any(r.status in (Status.NOT_VERIFIED, Status.ERROR) for _, r, _ in open_parts):
        return not_verified(
            f"security audit incomplete: {'; '.join(findings)}",
            *evidence,
            cause=cause,
            blocked_by=blocked_by,
            expected=EXPECTED,
        )
    if findings:
        return failed(
            f"{len(findings)} finding(s)",
            EXPECTED,
            f"security audit: {'; '.join(findings)}",
            *evidence,
            cause=cause,
            blocked_by=blocked_by,
        )
    return passed(
        "no findings", EXPECTED, "security audit: role, audit-table privileges and VALR key least-privilege", *evidence
    )
