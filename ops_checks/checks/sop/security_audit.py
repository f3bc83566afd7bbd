"""sop.monthly.2 "Security audit": the bot runs with least privilege, read from the systems themselves.

- the bot's database role (``BOT_DB_USER``, else the connecting role) has no superuser, CREATEROLE, CREATEDB,
  REPLICATION or BYPASSRLS attribute;
- it cannot DELETE or TRUNCATE any audit table (runbook 7.6.2's check, reused);
- the VALR trading key carries no Withdraw permission (runbook 2.1.1's check, reused).
The key files' modes are sop.1.1 and sop.3.1, checked in every preflight, so they are not repeated here.
"""

from __future__ import annotations

from typing import Any

from ops_checks.checks.s2_environment import secrets_check
from ops_checks.checks.s7_audit import audit_retention
from ops_checks.core.result import CheckResult, Evidence, failed, passed
from ops_checks.target.config import Target
from ops_checks.target.db import DbError, connect

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
        return failed("unreadable", expected, f"role attributes unreadable: {exc}")
    problems = role_problems(row, role)
    if problems:
        return failed("; ".join(problems), expected, "; ".join(problems), ev)
    return passed(f"role {row['rolname']}: no elevated attributes", expected, "", ev)  # type: ignore[index]


def audit(t: Target) -> CheckResult:
    """sop.monthly.2: every least-privilege finding at once; fails naming each one."""
    parts = (
        ("database role", role_attributes(t)),
        ("audit tables", audit_retention.bot_cannot_delete(t)),
        ("VALR key", secrets_check.valr_api_key(t)),
    )
    summary = "\n".join(f"{name}: {'ok' if r.ok else 'FINDING'} — {r.observed}" for name, r in parts)
    evidence = [Evidence("security audit", t.redactor.text(summary))] + [e for _, r in parts for e in r.evidence]
    findings = [f"{name}: {r.reason or r.observed}" for name, r in parts if not r.ok]
    if findings:
        return failed(f"{len(findings)} finding(s)", EXPECTED, f"security audit: {'; '.join(findings)}", *evidence)
    return passed("no findings", EXPECTED, "security audit: role, audit-table privileges and VALR key least-privilege",
                  *evidence)
