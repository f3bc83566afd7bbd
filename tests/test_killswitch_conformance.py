"""§4.1 conformance: audit rows replayed through the oracle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ops_checks import conformance, policy
from ops_checks.catalogue import BY_ID
from ops_checks.verdict import outcome

GREEN = {"kill_switch_active": False, "budget_signal": "ALLOW", "health_status": "GREEN", "risk_assessment": "HEALTHY"}


def row(decision: str, reason: str, snapshot: Any) -> dict[str, Any]:
    return {
        "id": 1,
        "correlation_id": "LOOP-x",
        "timestamp_utc": datetime(2025, 1, 1, tzinfo=UTC),
        "policy_decision": decision,
        "reason_code": reason,
        "context_snapshot": snapshot,
    }


@pytest.mark.parametrize(
    ("changes", "decision", "reason"),
    [
        ({}, "ALLOW", "ALL_GATES_PASSED"),
        ({"kill_switch_active": True, "budget_signal": "HALT", "health_status": "RED"}, "HALT", "HALT_KILL_SWITCH"),
        ({"kill_switch_active": "true"}, "HALT", "HALT_KILL_SWITCH"),
        ({"budget_signal": "HALT", "health_status": "RED"}, "HALT", "HALT_BUDGET"),
        ({"health_status": "YELLOW", "risk_assessment": "CRITICAL"}, "NEUTRAL", "NEUTRAL_HEALTH_DEGRADED"),
        ({"risk_assessment": "CRITICAL"}, "HALT", "HALT_RISK_CRITICAL"),
        ({"risk_assessment": "ELEVATED"}, "ALLOW", "ALL_GATES_PASSED"),
        ({"settings_missing": True}, "HALT", "HALT_NO_SETTINGS"),
    ],
)
def test_oracle_follows_the_evaluation_order(changes: dict[str, Any], decision: str, reason: str) -> None:
    assert conformance.oracle(GREEN | changes) == policy.Decision(decision, reason)
    assert conformance.replay(row(decision, reason, GREEN | changes)).agrees


def test_contradicting_row_is_a_disagreement() -> None:
    r = conformance.replay(row("ALLOW", "ALL_GATES_PASSED", GREEN | {"kill_switch_active": True}))
    assert not r.agrees and "oracle HALT/HALT_KILL_SWITCH" in r.describe()


def test_right_decision_wrong_reason_is_a_disagreement() -> None:
    assert not conformance.replay(row("HALT", "HALT_BUDGET", GREEN | {"kill_switch_active": True})).agrees


@pytest.mark.parametrize("snapshot", [{}, {"kill_switch_active": False}, "not an object", None])
def test_decision_without_its_inputs_cannot_agree(snapshot: Any) -> None:
    r = conformance.replay(row("ALLOW", "ALL_GATES_PASSED", snapshot))
    assert not r.agrees and "inputs missing" in r.describe()


def test_severity_depends_on_the_target() -> None:
    item = BY_ID["4.1.1"]
    assert item.severity_on("sandbox") == "blocker" and item.severity_on("live") == "warning"
    assert outcome("4.1.1", "failed", "x", "live").severity == "warning"
    assert outcome("4.1.1", "failed", "x", "sandbox").severity == "blocker"
    assert outcome("4.4.3", "failed", "x", "live").severity == "blocker"
