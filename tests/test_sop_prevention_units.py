"""Unit tests of the weekly/monthly prevention-checklist logic: runbook revisions, incident reviews, recorded
drills, the contact list, role attributes, and the restore drill against a real disposable database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from ops_checks.checks.sop import contacts, records, reviews, security_audit
from ops_checks.drills import restore_drill
from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.sop_env import write_contacts

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def test_runbook_revision_read_from_either_style(tmp_path: Path) -> None:
    live = tmp_path / "live.md"
    live.write_text("# R\n**Last Updated:** 2024-12-23  \n**Revision:** 1.0.0\n", encoding="utf-8")
    sop = tmp_path / "sop.md"
    sop.write_text("text\n*Version: 1.0*\n*Last Updated: 2025-08-30*\n", encoding="utf-8")
    none = tmp_path / "none.md"
    none.write_text("no dates here\n", encoding="utf-8")
    assert (reviews.read_runbook(live).last_updated, reviews.read_runbook(live).revision) == (
        date(2024, 12, 23),
        "1.0.0",
    )
    assert (reviews.read_runbook(sop).last_updated, reviews.read_runbook(sop).revision) == (date(2025, 8, 30), "1.0")
    assert reviews.read_runbook(none).last_updated is None and len(reviews.read_runbook(none).sha256) == 64


def test_runbook_needs_an_update_or_a_review_within_a_week() -> None:
    old = reviews.RunbookFile("sop.md", date(2025, 8, 30), "1.0", "0" * 64)
    fresh = reviews.RunbookFile("sop.md", date(2026, 11, 18), "1.1", "0" * 64)
    assert reviews.runbook_problem(fresh, None, NOW) is None
    assert reviews.runbook_problem(old, NOW - timedelta(days=2), NOW) is None
    assert reviews.runbook_problem(old, NOW - timedelta(days=8), NOW) == (
        "sop.md: last updated 2025-08-30, last reviewed 2026-11-14"
    )
    assert "never reviewed" in str(reviews.runbook_problem(old, None, NOW))


def test_incident_review_problems() -> None:
    opened = NOW - timedelta(days=5)
    rows = [
        {"incident_id": "INC-1", "opened_at": opened, "root_cause": "x", "reviewed_at": opened + timedelta(hours=20)},
        {"incident_id": "INC-2", "opened_at": opened, "root_cause": " ", "reviewed_at": opened + timedelta(hours=1)},
        {"incident_id": "INC-3", "opened_at": opened, "root_cause": "y", "reviewed_at": None},
        {"incident_id": "INC-4", "opened_at": opened, "root_cause": "z", "reviewed_at": opened + timedelta(hours=70)},
    ]
    problems, notes = reviews.incident_problems(rows)
    assert problems == ["INC-2: no root cause", "INC-3: no review recorded"]
    assert notes == ["INC-4 reviewed 70 h after opening"]
    assert reviews.incident_problems([]) == ([], [])


def test_latest_record_judged() -> None:
    row = {"performed_at": NOW - timedelta(days=10), "performed_by": "ops", "outcome": "passed"}
    assert records.judge_latest(row, "DR drill", 31, NOW) is None
    assert "40 days ago" in str(
        records.judge_latest(row | {"performed_at": NOW - timedelta(days=40)}, "DR drill", 31, NOW)
    )
    assert "failed" in str(records.judge_latest(row | {"outcome": "failed"}, "DR drill", 31, NOW))
    assert records.judge_latest(None, "DR drill", 31, NOW) == "no DR drill recorded"


def _contacts(tmp_path: Path, **change: object) -> dict[str, object]:
    path = tmp_path / "c.json"
    write_contacts(path, reviewed_days_ago=3)
    doc = json.loads(path.read_text()) | change
    return doc


def test_contact_list_rules(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    good = _contacts(tmp_path)
    assert contacts.contact_problems(good, now) == []
    stale = good | {"reviewed_at": (now - timedelta(days=45)).isoformat()}
    assert contacts.contact_problems(stale, now)[0].startswith("last reviewed 45 days ago")
    naive = good | {"reviewed_at": "2026-11-20T09:00:00"}
    assert "time zone" in contacts.contact_problems(naive, now)[0]
    people = [dict(c) for c in good["contacts"]]  # type: ignore[attr-defined]
    people[0]["phone"] = "021 555 0101"
    people[2].pop("email")
    people[2].pop("slack")
    found = contacts.contact_problems(good | {"contacts": people}, now)
    assert "P1 Primary Operator: malformed phone" in found
    assert "no P1 contact reachable by phone" in found and "no P3 contact reachable by email or slack" in found
    assert contacts.contact_problems([], now) == ['not a {"contacts": [...]} document']
    assert contacts.mask("phone", "+27215550101") == "+27******101"
    assert contacts.mask("email", "sysadmin@example.invalid") == "s***@example.invalid"


def test_role_attribute_findings() -> None:
    clean = {"rolname": "app", **dict.fromkeys(security_audit.ATTRIBUTES, False)}
    assert security_audit.role_problems(clean, "") == []
    assert security_audit.role_problems(clean | {"rolsuper": True, "rolcreatedb": True}, "") == [
        "role app has SUPERUSER, CREATEDB"
    ]
    assert security_audit.role_problems(None, "bot") == ["role bot not found"]


@pytest.fixture(scope="module")
def sandbox(shared_pg_env: dict[str, str]) -> Iterator[Sandbox]:
    """A sandbox on the worker's shared server (the drill makes its disposable database there)."""
    server = postgres.Server(admin_dsn=shared_pg_env[postgres.DSN_ENV], kind="dsn")
    sb = Sandbox(server=server)
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


def test_restore_drill_round_trip_and_record(sandbox: Sandbox, tmp_path: Path) -> None:
    t = sandbox.target
    assert t is not None and isinstance(sandbox.server, postgres.Server)
    result = restore_drill.check(t, sandbox.server, tmp_path / "drill")
    assert result.ok, result.reason
    assert "counts and SHA-256 match" in result.reason
    recorded = restore_drill.recorded(t)  # the live check sees the drill just recorded
    assert recorded.ok, recorded.reason


def test_restore_drill_detects_a_difference() -> None:
    copy = restore_drill.TableCopy("trading_orders", 25, "a" * 64, 24, "b" * 64)
    result = restore_drill.judge([copy])
    assert not result.ok and result.reason == "restored backup differs from the source: trading_orders"
    assert not restore_drill.judge([]).ok
