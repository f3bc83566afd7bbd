"""TradePermissionPolicy oracle: runbook §4.1 short-circuit order, every precedence pair."""

from __future__ import annotations

import itertools
from dataclasses import FrozenInstanceError

import pytest

from ops_checks import policy
from ops_checks.policy import Decision, PolicyInputs, evaluate

GREEN = PolicyInputs(kill_switch_active=False, budget_signal="ALLOW", health_status="GREEN", risk_assessment="HEALTHY")

# Each gate tripped on its own: (field, tripping value, expected decision)
GATES = {
    "kill_switch_active": (True, Decision("HALT", "HALT_KILL_SWITCH")),
    "budget_signal": ("DENY", Decision("HALT", "HALT_BUDGET")),
    "health_status": ("AMBER", Decision("NEUTRAL", "NEUTRAL_HEALTH_DEGRADED")),
    "risk_assessment": ("CRITICAL", Decision("HALT", "HALT_RISK_CRITICAL")),
}
ORDER = list(GATES)  # rank 1 → 4


def _with(**changes: object) -> PolicyInputs:
    return PolicyInputs(**{**GREEN.to_snapshot(), **changes})  # type: ignore[arg-type]


def test_all_gates_pass() -> None:
    assert evaluate(GREEN) == Decision(policy.ALLOW, policy.ALL_GATES_PASSED)


@pytest.mark.parametrize("gate", ORDER)
def test_each_gate_alone(gate: str) -> None:
    value, expected = GATES[gate]
    assert evaluate(_with(**{gate: value})) == expected


@pytest.mark.parametrize(("higher", "lower"), list(itertools.combinations(ORDER, 2)))
def test_precedence_pairs(higher: str, lower: str) -> None:
    """With two gates tripped, the higher-ranked one decides."""
    inputs = _with(**{higher: GATES[higher][0], lower: GATES[lower][0]})
    assert evaluate(inputs) == GATES[higher][1]


@pytest.mark.parametrize("mask", range(16))
def test_every_combination_first_tripped_gate_wins(mask: int) -> None:
    tripped = [g for i, g in enumerate(ORDER) if mask & (1 << i)]
    inputs = _with(**{g: GATES[g][0] for g in tripped})
    expected = GATES[tripped[0]][1] if tripped else Decision("ALLOW", "ALL_GATES_PASSED")
    assert evaluate(inputs) == expected


@pytest.mark.parametrize("value", ["HALT", "NEUTRAL", "", "allow"])
def test_budget_anything_but_allow_halts(value: str) -> None:
    assert evaluate(_with(budget_signal=value)).reason_code == policy.HALT_BUDGET


@pytest.mark.parametrize("value", ["DRIFT", "RED", "YELLOW", "", "green"])
def test_health_anything_but_green_is_neutral(value: str) -> None:
    assert evaluate(_with(health_status=value)) == Decision("NEUTRAL", "NEUTRAL_HEALTH_DEGRADED")


@pytest.mark.parametrize("value", ["HEALTHY", "ELEVATED", "WARNING", "critical"])
def test_only_critical_risk_halts(value: str) -> None:
    assert evaluate(_with(risk_assessment=value)).decision == "ALLOW"


def test_snapshot_round_trip_and_extra_keys() -> None:
    inputs = _with(kill_switch_active=True, health_status="DRIFT")
    snap = inputs.to_snapshot()
    assert snap == {
        "kill_switch_active": True,
        "budget_signal": "ALLOW",
        "health_status": "DRIFT",
        "risk_assessment": "HEALTHY",
    }
    assert PolicyInputs.from_snapshot({**snap, "source": "loop", "kill_switch_reason": "x"}) == inputs
    assert PolicyInputs.from_snapshot({**snap, "kill_switch_active": "true"}).kill_switch_active is True
    with pytest.raises(KeyError):
        PolicyInputs.from_snapshot({"budget_signal": "ALLOW"})


def test_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        GREEN.kill_switch_active = True  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        evaluate(GREEN).decision = "HALT"  # type: ignore[misc]


def test_evaluation_order_constant_matches_evaluate() -> None:
    assert [gate for _, gate, _, _ in policy.EVALUATION_ORDER] == ORDER
    for _, gate, decision, code in policy.EVALUATION_ORDER:
        assert GATES[gate][1] == Decision(decision, code)
