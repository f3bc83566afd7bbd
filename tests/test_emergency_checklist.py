"""§5.7 emergency shutdown checklist: the rows verified from evidence (sandbox) and their readiness (live)."""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from psycopg import sql

from ops_checks.access import suite_tables
from ops_checks.access.config import Target
from ops_checks.checks.s5_emergency import emergency_checklist as ec
from ops_checks.core.result import Status, failed, passed
from ops_checks.drills import base as drill_base
from ops_checks.drills import emergency_checklist_drill, emergency_drill
from ops_checks.procedures.incident import Action
from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import apply as apply_faults

RUNBOOKS = Path(__file__).resolve().parents[2] / "shared" / "runbooks"
AT = "2025-01-02T03:04:05+00:00"


@pytest.fixture
def live_like(server: postgres.Server) -> Iterator[tuple[Sandbox, Target]]:
    sb = Sandbox(server=server)
    try:
        t = sb.start()
        yield sb, dataclasses.replace(t, name="live", allow_mutations=False)
    finally:
        sb.stop()


def drill(server: postgres.Server, tmp_path: Path, *faults: str) -> emergency_drill.Drill:
    with drill_base.disposable(server) as sb:
        apply_faults(sb, list(faults))
        d = emergency_drill.run(sb, RUNBOOKS if RUNBOOKS.is_dir() else None, tmp_path / "dump")
        emergency_checklist_drill.run(sb, d, tmp_path / "incidents")
        return d


def rows(d: emergency_drill.Drill) -> dict[str, bool]:
    return {k: v.ok for k, v in d.results.items() if k.startswith("5.7.")}


# -- pure logic -----------------------------------------------------------------------------------------------------
def test_table_fills_completed_and_time_from_the_verified_rows() -> None:
    results = {
        "5.7.1": passed("x", "y", "Kill switch activated: ok (at 2025-01-02T03:04:05+00:00)"),
        "5.7.2": failed("x", "y", "Trading services stopped: NOT done: bot running"),
    }
    text = ec.table(results)
    assert "| 1 | Kill switch activated | ☑ | 2025-01-02T03:04:05+00:00 |" in text
    assert "| 2 | Trading services stopped | ☒ |  |" in text
    assert "| 6 | Root cause identified | — |  |" in text


def test_positions_row_needs_the_review_read_from_the_exchange(tmp_path: Path) -> None:
    ok = Action("6.1.6", True, "1 open order(s), 2 balance(s)", "op", AT)
    assert not ec.positions_row(tmp_path, ok).ok  # no review file
    (tmp_path / ec.POSITIONS_FILE).write_text(json.dumps({"open_orders": [{"id": "1"}], "balances": [{}, {}]}))
    result = ec.positions_row(tmp_path, ok)
    assert result.ok and "2 balance(s), 1 open order(s)" in result.reason and AT in result.reason
    down = Action("6.1.6", False, "open positions not assessed: HTTP 503", "op", AT)
    assert "HTTP 503" in ec.positions_row(tmp_path, down).reason
    (tmp_path / ec.POSITIONS_FILE).write_text("{not json")
    assert "unreadable" in ec.positions_row(tmp_path, ok).reason
    assert not ec.positions_row(None, None).ok


def test_notified_row_needs_a_delivered_alert_naming_the_incident() -> None:
    sent = Action("6.1.5", True, "alert webhook answered HTTP 204", "op", AT)
    assert ec.notified_row("INC-20250102-001", [{"content": "INCIDENT INC-20250102-001 opened"}], sent).ok
    other = ec.notified_row("INC-20250102-002", [{"content": "INCIDENT INC-20250102-001 opened"}], sent)
    assert not other.ok and "INC-20250102-002" in other.reason
    assert not ec.notified_row(None, [], None).ok


def test_privilege_problems() -> None:
    good = {
        "incidents": True,
        "events": True,
        "incidents_insert": True,
        "events_insert": True,
        "root_cause": True,
        "incidents_update": True,
    }
    t = types.SimpleNamespace(db=types.SimpleNamespace(user="app_trading"))  # the role is all these read
    assert ec.incident_problem(t, good) is None and ec.root_cause_problem(t, good) is None
    missing = ec.incident_problem(t, {**good, "incidents": False})
    assert missing is not None and missing.status is Status.NOT_VERIFIED and missing.cause == suite_tables.CAUSE
    assert "opscheck.ops_incidents" in missing.reason and "opscheck init" in missing.cause.remedy
    events = ec.incident_problem(t, {**good, "events_insert": False})
    assert events is not None and "circuit_breaker_events" in events.reason
    assert events.cause is not None and events.cause.remedy.startswith("GRANT INSERT ON circuit_breaker_events")
    field = ec.root_cause_problem(t, {**good, "root_cause": False})
    assert field is not None and "root_cause field" in field.reason
    update = ec.root_cause_problem(t, {**good, "incidents_update": False})
    assert update is not None and update.cause is not None and "GRANT UPDATE" in update.cause.remedy


def test_rows_without_their_step_fail() -> None:
    assert not ec.incident_row(None, None, None, "x").ok  # type: ignore[arg-type]
    assert "never stopped" in ec.services_row(None, None, "", []).reason  # type: ignore[arg-type]
    assert "never activated" in ec.kill_switch_row(None, None).reason  # type: ignore[arg-type]


# -- sandbox: the drill ---------------------------------------------------------------------------------------------
def test_healthy_checklist_is_filled_with_times(server: postgres.Server, tmp_path: Path) -> None:
    d = drill(server, tmp_path)
    assert rows(d) == dict.fromkeys(ec.ROWS, True), {k: d.results[k].reason for k in ec.ROWS}
    for item in ec.ROWS:
        reason = d.results[item].reason
        assert "(at 20" in reason and "\n" not in reason
    table = next(e.content for e in d.results["5.7.6"].evidence if e.name.startswith("§5.7"))
    assert table.count("☑") == 6
    assert datetime.now(UTC).strftime("%Y%m%d") in d.results["5.7.4"].reason


@pytest.mark.parametrize(
    ("fault", "item"),
    [("kill_switch_reseeded_on_start", "5.7.1"), ("bot_restarts_with_database", "5.7.2")],
)
def test_start_up_faults_fail_only_their_row(server: postgres.Server, tmp_path: Path, fault: str, item: str) -> None:
    d = drill(server, tmp_path, fault)
    assert [k for k, ok in rows(d).items() if not ok] == [item]
    assert all(d.results[k].ok for k in ("5.2.1", "5.3.1", "5.4.1", "5.5.1"))


# -- live: readiness --------------------------------------------------------------------------------------------------
def test_live_readiness_passes_read_only(live_like: tuple[Sandbox, Target]) -> None:
    _, t = live_like
    for item in ec.ROWS:
        result = ec.ready(t, item, RUNBOOKS if RUNBOOKS.is_dir() else None)
        assert result.ok, (item, result.reason)


def test_live_readiness_fails_per_row(live_like: tuple[Sandbox, Target]) -> None:
    sb, t = live_like
    assert sb.db is not None and sb.valr is not None
    roles = sql.SQL(", ").join([sql.Identifier(sb.db.user), sql.Identifier(postgres.BOT_ROLE)])  # and inherited
    sb.admin(sql.SQL("REVOKE INSERT ON circuit_breaker_events FROM {}").format(roles).as_string(None))
    assert "circuit_breaker_events" in ec.ready(t, "5.7.4", None).reason
    sb.admin(sql.SQL("REVOKE UPDATE ON opscheck.ops_incidents FROM {}").format(roles).as_string(None))
    assert "UPDATE" in ec.ready(t, "5.7.6", None).reason
    sb.valr.fail["/v1/account/balances"] = 503
    assert "VALR cannot be read" in ec.ready(t, "5.7.3", None).reason
    no_hook = dataclasses.replace(t, env={k: v for k, v in t.env.items() if k != "DISCORD_WEBHOOK_URL"})
    assert "DISCORD_WEBHOOK_URL" in ec.ready(no_hook, "5.7.5", None).reason

    def no_list() -> list:  # type: ignore[type-arg]
        raise RuntimeError("docker not reachable")

    assert "service list unavailable" in ec.ready(dataclasses.replace(t, list_services=no_list), "5.7.2", None).reason


def test_without_the_suite_schema_dependent_items_are_not_verified(live_like: tuple[Sandbox, Target]) -> None:
    """`opscheck init` never ran: every item resting on the suite's tables says so (never an SQL error, never an
    empty pass); 7.6.1 owns the failure in §7, 7.2.2 is skipped through its precondition."""
    from ops_checks.access.install.opscheck import NOT_INSTALLED
    from ops_checks.checks.s6_post_incident import incident_audit
    from ops_checks.checks.s7_audit import audit_retention

    sb, t = live_like
    sb.admin("DROP SCHEMA opscheck CASCADE")
    results = {
        "5.7.4": ec.ready(t, "5.7.4", None),
        "5.7.6": ec.ready(t, "5.7.6", None),
        "6.1.1": incident_audit.check(t, "6.1.1"),
        "6.4.3": incident_audit.check(t, "6.4.3"),
        "7.6.1": audit_retention.rows_retained(t),
    }
    for item, r in results.items():
        assert not r.ok, item
        assert r.reason.startswith(NOT_INSTALLED), (item, r.reason)
        assert "opscheck.ops_" in r.reason and "\n" not in r.reason
        assert r.cause == suite_tables.CAUSE, item  # one cause in the verdict, with `opscheck init` as its remedy
        assert r.status is (Status.FAILED if item == "7.6.1" else Status.NOT_VERIFIED), item  # 7.6.1 owns it
    why = suite_tables.problem(t, "ops_schema_version")
    assert why is not None and why.status is Status.NOT_VERIFIED and why.cause == suite_tables.CAUSE
    assert why.reason.startswith("the suite's schema is missing") and "opscheck init" in why.reason
    mapped = suite_tables.not_installed_reason('relation "ops_incidents" does not exist')
    assert mapped and mapped.startswith(NOT_INSTALLED)
    assert suite_tables.not_installed_reason('relation "trading_orders" does not exist') is None


def test_audit_tables_are_immutable_and_chained(live_like: tuple[Sandbox, Target]) -> None:
    """7.6.2 reads triggers and grants; 7.6.1 walks the chains with the bot's verify_chain_integrity."""
    from ops_checks.checks.s7_audit import audit_retention

    sb, t = live_like
    assert audit_retention.bot_cannot_delete(t).ok
    ok = audit_retention.rows_retained(t)
    assert ok.ok and "policy_decision_audit" in ok.observed, ok.reason
    sb.admin("ALTER TABLE signals DISABLE TRIGGER trg_04_prevent_delete_signals")
    r = audit_retention.bot_cannot_delete(t)
    assert not r.ok and "signals: no enabled prevent_delete trigger" in r.reason
    sb.admin(
        "SET session_replication_role = replica; UPDATE policy_decision_audit SET ai_confidence = 0.1 "
        "WHERE id = (SELECT id FROM policy_decision_audit ORDER BY id OFFSET 5 LIMIT 1)"
    )
    r = audit_retention.rows_retained(t)
    assert not r.ok and "row-hash chain broken" in r.reason and "policy_decision_audit" in r.reason
