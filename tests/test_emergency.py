"""§5 emergency shutdown: the drills on a disposable sandbox, and the read-only readiness checks for live."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops_checks.access.config import Target
from ops_checks.checks.s5_emergency import emergency
from ops_checks.drills import base as drill_base
from ops_checks.drills import emergency_drill
from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import apply as apply_faults

RUNBOOKS = Path(__file__).resolve().parents[2] / "shared" / "runbooks"


def drill(server: postgres.Server, tmp_path: Path, *faults: str) -> emergency_drill.Drill:
    with drill_base.disposable(server) as sb:
        apply_faults(sb, list(faults))
        return emergency_drill.run(sb, RUNBOOKS if RUNBOOKS.is_dir() else None, tmp_path / "dump")


@pytest.fixture(scope="module")
def live_like(server: postgres.Server) -> Iterator[tuple[Sandbox, Target]]:
    """A running sandbox seen as the live target: the readiness checks take their live (EXPLAIN-only) path."""
    sb = Sandbox(server=server)
    try:
        t = sb.start()
        yield sb, dataclasses.replace(t, name="live", allow_mutations=False)
    finally:
        sb.stop()


def test_one_liners_come_from_the_runbook() -> None:
    found = emergency.one_liners(RUNBOOKS)
    assert "'EMERGENCY_L1'" in found["L1"].sql and found["L1"].section.startswith("5.2")
    assert "'SECURITY_BREACH_L4'" in found["L4"].sql and found["L4"].section.startswith("5.5")
    fallback = emergency.one_liners(None)
    assert fallback["L1"].sql == emergency.FALLBACK["L1"] and "not readable" in fallback["L1"].runbook


def test_healthy_drill_passes_every_level(server: postgres.Server, tmp_path: Path) -> None:
    result = drill(server, tmp_path)
    assert {k: v.ok for k, v in result.results.items()} == dict.fromkeys(emergency.LEVELS, True), {
        k: v.summary() for k, v in result.results.items()
    }
    manifest = (tmp_path / "dump" / "CHECKSUMS.sha256").read_text()
    for table in ("system_settings", "policy_decision_audit", "circuit_breaker_events", "hitl_approvals"):
        assert f"{table}.csv" in manifest  # the settings row and every hash-chained table the schema declares
    checklist = next(e for e in result.results["5.5.1"].evidence if "checklist" in e.name).content
    assert "SOVEREIGN_SECRET" in checklist and "VALR_API_KEY" in checklist and "SECURITY_BREACH_L4" in checklist


@pytest.mark.parametrize(
    ("fault", "item"),
    [
        ("l1_one_liner_ignored", "5.2.1"),
        ("orphan_exchange_worker", "5.3.1"),
        ("orphan_db_session", "5.4.1"),
        ("emergency_dump_unreadable", "5.5.1"),
    ],
)
def test_each_fault_fails_only_its_level(server: postgres.Server, tmp_path: Path, fault: str, item: str) -> None:
    result = drill(server, tmp_path, fault)
    failing = {k for k, v in result.results.items() if not v.ok}
    assert failing == {item}, {k: v.summary() for k, v in result.results.items()}
    assert "\n" not in result.results[item].reason


def test_checklist_names_secrets_but_never_values(live_like: tuple[Sandbox, Target]) -> None:
    sb, t = live_like
    text = emergency.revocation_checklist(t, "ACTIVE", "dump")
    for name in ("SOVEREIGN_SECRET", "WEBHOOK_SECRET", "GUARDIAN_RESET_CODE", "VALR_API_KEY", "DB_PASSWORD"):
        assert name in text
        assert sb.env[name] not in text and sb.env[name][:8] not in text


def test_live_readiness_passes_read_only(live_like: tuple[Sandbox, Target]) -> None:
    _, t = live_like
    for item, check in emergency.READINESS.items():
        result = check(t, RUNBOOKS)
        assert result.ok, (item, result.summary())
    sql_evidence = next(e for e in emergency.l1_ready(t, RUNBOOKS).evidence if e.name.startswith("runbook SQL"))
    assert "EXPLAIN only" in sql_evidence.name


def test_live_l1_readiness_fails_on_an_unguarded_api(live_like: tuple[Sandbox, Target]) -> None:
    sb, t = live_like
    assert sb.bot is not None
    sb.bot.knobs.guardian_accept_any_secret = True
    try:
        result = emergency.l1_ready(t, RUNBOOKS)
    finally:
        sb.bot.knobs.guardian_accept_any_secret = False
    assert not result.ok and "guardian API answered HTTP 200 to a GET without" in result.reason


def test_live_l4_readiness_fails_when_an_audit_table_cannot_be_streamed(live_like: tuple[Sandbox, Target]) -> None:
    sb, t = live_like
    assert sb.db is not None
    sb.admin(f'REVOKE SELECT ON trading_orders FROM "{sb.db.user}", app_trading')  # and the role it inherits
    try:
        result = emergency.l4_ready(t, RUNBOOKS)
    finally:
        sb.admin("GRANT SELECT ON trading_orders TO app_trading")
    assert not result.ok and "trading_orders" in result.reason


def test_live_l2_l3_readiness_fail_without_a_service_list(live_like: tuple[Sandbox, Target]) -> None:
    _, t = live_like

    def broken() -> list:  # type: ignore[type-arg]
        raise RuntimeError("docker CLI not found on this host")

    blind = dataclasses.replace(t, list_services=broken)
    for result in (emergency.l2_ready(blind), emergency.l3_ready(blind)):
        assert not result.ok and "docker CLI not found" in result.reason
