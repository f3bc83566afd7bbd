"""§4.1 conformance: audit rows replayed through the oracle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ops_checks.access import policy
from ops_checks.catalogue import BY_ID
from ops_checks.checks.s4_kill_switch import conformance
from ops_checks.verdict.verdict import outcome

GREEN = {"kill_switch_active": False, "budget_signal": "ALLOW", "health_status": "GREEN", "risk_assessment": "HEALTHY"}


GATE = {
    "HALT_KILL_SWITCH": ("KILL_SWITCH", 1),
    "HALT_BUDGET_HARD_STOP": ("BUDGET", 2),
    "NEUTRAL_HEALTH_YELLOW": ("HEALTH", 3),
    "NEUTRAL_HEALTH_RED": ("HEALTH", 3),
    "HALT_RISK_CRITICAL": ("RISK", 4),
    "HALT_CONTEXT_INCOMPLETE": ("CONTEXT", 1),
}


def row(
    decision: str, reason: str, snapshot: Any, gate: tuple[str | None, int | None] | None = None, latched: bool = False
) -> dict[str, Any]:
    gate = gate if gate is not None else GATE.get(reason, (None, None))
    return {
        "id": 1,
        "correlation_id": "6f1c1a52-4a8e-4f6e-9d43-2d7a1b0c9e11",
        "timestamp_utc": datetime(2025, 1, 1, tzinfo=UTC),
        "policy_decision": decision,
        "reason_code": reason,
        "blocking_gate": gate[0],
        "precedence_rank": gate[1],
        "is_latched": latched,
        "context_snapshot": snapshot,
    }


@pytest.mark.parametrize(
    ("changes", "decision", "reason"),
    [
        ({}, "ALLOW", "ALLOW_ALL_GATES_PASSED"),
        (
            {"kill_switch_active": True, "budget_signal": "HARD_STOP", "health_status": "RED"},
            "HALT",
            "HALT_KILL_SWITCH",
        ),
        ({"kill_switch_active": "true"}, "HALT", "HALT_KILL_SWITCH"),
        ({"budget_signal": "HARD_STOP", "health_status": "RED"}, "HALT", "HALT_BUDGET_HARD_STOP"),
        ({"health_status": "YELLOW", "risk_assessment": "CRITICAL"}, "NEUTRAL", "NEUTRAL_HEALTH_YELLOW"),
        ({"health_status": "RED"}, "NEUTRAL", "NEUTRAL_HEALTH_RED"),
        ({"risk_assessment": "CRITICAL"}, "HALT", "HALT_RISK_CRITICAL"),
        ({"risk_assessment": "WARNING"}, "ALLOW", "ALLOW_ALL_GATES_PASSED"),
        ({"settings_missing": True}, "HALT", "HALT_CONTEXT_INCOMPLETE"),
    ],
)
def test_oracle_follows_the_evaluation_order(changes: dict[str, Any], decision: str, reason: str) -> None:
    assert conformance.oracle(GREEN | changes) == policy.Decision(decision, reason, *GATE.get(reason, (None, None)))
    assert conformance.replay(row(decision, reason, GREEN | changes)).agrees


def test_the_seeded_allow_agrees() -> None:
    """4.1.1 once failed 59 times on 'logged ALLOW/ALLOW_ALL_GATES_PASSED, oracle ALLOW/ALL_GATES_PASSED'."""
    assert conformance.replay(row("ALLOW", "ALLOW_ALL_GATES_PASSED", GREEN)).agrees


def test_contradicting_row_is_a_disagreement() -> None:
    r = conformance.replay(row("ALLOW", "ALLOW_ALL_GATES_PASSED", GREEN | {"kill_switch_active": True}))
    assert not r.agrees and "oracle HALT/HALT_KILL_SWITCH gate KILL_SWITCH/1" in r.describe()


def test_right_decision_wrong_reason_is_a_disagreement() -> None:
    snap = GREEN | {"kill_switch_active": True}
    assert not conformance.replay(row("HALT", "HALT_BUDGET_HARD_STOP", snap, ("KILL_SWITCH", 1))).agrees


@pytest.mark.parametrize("gate", [("BUDGET", 2), ("KILL_SWITCH", 2), (None, None)])
def test_wrong_blocking_gate_or_rank_is_a_disagreement(gate: tuple[str | None, int | None]) -> None:
    r = conformance.replay(row("HALT", "HALT_KILL_SWITCH", GREEN | {"kill_switch_active": True}, gate))
    assert not r.agrees


def test_latched_halt_names_its_gate() -> None:
    assert conformance.replay(row("HALT", "HALT_LATCHED", GREEN, ("KILL_SWITCH", 1), latched=True)).agrees
    assert conformance.replay(row("HALT", "HALT_LATCHED", GREEN, ("LATCH", 1), latched=True)).agrees
    assert not conformance.replay(row("HALT", "HALT_LATCHED", GREEN, ("RISK", 1), latched=True)).agrees
    assert not conformance.replay(row("HALT", "HALT_LATCHED", GREEN, ("KILL_SWITCH", 1), latched=False)).agrees


@pytest.mark.parametrize("snapshot", [{}, {"kill_switch_active": False}, "not an object", None])
def test_decision_without_its_inputs_cannot_agree(snapshot: Any) -> None:
    r = conformance.replay(row("ALLOW", "ALLOW_ALL_GATES_PASSED", snapshot))
    assert not r.agrees and "inputs missing" in r.describe()


def test_severity_depends_on_the_target() -> None:
    item = BY_ID["4.1.1"]
    assert item.severity_on("sandbox") == "blocker" and item.severity_on("live") == "warning"
    assert outcome("4.1.1", "failed", "x", "live").severity == "warning"
    assert outcome("4.1.1", "failed", "x", "sandbox").severity == "blocker"
    assert outcome("4.4.3", "failed", "x", "live").severity == "blocker"
