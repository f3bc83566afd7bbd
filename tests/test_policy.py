"""TradePermissionPolicy oracle: runbook §4.1 short-circuit order, every precedence pair, in the real bot's
vocabulary (TRADE_BOT migration 021: reason codes, blocking_gate, precedence_rank)."""

from __future__ import annotations

import itertools
from dataclasses import FrozenInstanceError

import pytest

from ops_checks.access import policy
from ops_checks.access.policy import Decision, PolicyInputs, evaluate

GREEN = PolicyInputs(kill_switch_active=False, budget_signal="ALLOW", health_status="GREEN", risk_assessment="HEALTHY")

# Each gate tripped on its own: (field, tripping value, expected decision)
GATES = {
    "kill_switch_active": (True, Decision("HALT", "HALT_KILL_SWITCH", "KILL_SWITCH", 1)),
    "budget_signal": ("RDS_EXCEEDED", Decision("HALT", "HALT_BUDGET_RDS_EXCEEDED", "BUDGET", 2)),
    "health_status": ("YELLOW", Decision("NEUTRAL", "NEUTRAL_HEALTH_YELLOW", "HEALTH", 3)),
    "risk_assessment": ("CRITICAL", Decision("HALT", "HALT_RISK_CRITICAL", "RISK", 4)),
}
ALLOWED = Decision("ALLOW", "ALLOW_ALL_GATES_PASSED")
ORDER = list(GATES)  # rank 1 → 4


def _with(**changes: object) -> PolicyInputs:
    return PolicyInputs(**{**GREEN.to_snapshot(), **changes})  # type: ignore[arg-type]


def test_all_gates_pass() -> None:
    assert evaluate(GREEN) == ALLOWED == Decision(policy.ALLOW, policy.ALLOW_ALL_GATES_PASSED)
    assert ALLOWED.blocking_gate is None and ALLOWED.precedence_rank is None


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
    expected = GATES[tripped[0]][1] if tripped else ALLOWED
    assert evaluate(inputs) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("HARD_STOP", "HALT_BUDGET_HARD_STOP"),
        ("RDS_EXCEEDED", "HALT_BUDGET_RDS_EXCEEDED"),
        ("STALE_DATA", "HALT_BUDGET_STALE_DATA"),
        ("HALT", "HALT_BUDGET_HARD_STOP"),  # unknown: fail closed, as the bot maps it
        ("", "HALT_BUDGET_HARD_STOP"),
        ("allow", "HALT_BUDGET_HARD_STOP"),
    ],
)
def test_budget_anything_but_allow_halts(value: str, code: str) -> None:
    assert evaluate(_with(budget_signal=value)) == Decision("HALT", code, "BUDGET", 2)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("YELLOW", "NEUTRAL_HEALTH_YELLOW"),
        ("RED", "NEUTRAL_HEALTH_RED"),
        ("DRIFT", "NEUTRAL_HEALTH_RED"),
        ("", "NEUTRAL_HEALTH_RED"),
        ("green", "NEUTRAL_HEALTH_RED"),
    ],
)
def test_health_anything_but_green_is_neutral(value: str, code: str) -> None:
    assert evaluate(_with(health_status=value)) == Decision("NEUTRAL", code, "HEALTH", 3)


def test_every_code_is_one_the_schema_accepts_and_gates_are_set_exactly_when_not_allow() -> None:
    for mask in range(16):
        tripped = [g for i, g in enumerate(ORDER) if mask & (1 << i)]
        d = evaluate(_with(**{g: GATES[g][0] for g in tripped}))
        assert d.reason_code in policy.REASON_CODES and d.decision in policy.DECISIONS
        assert (d.blocking_gate is None) == (d.precedence_rank is None) == (d.decision == "ALLOW")
        if d.blocking_gate:
            assert d.precedence_rank == policy.rank(d.blocking_gate)


def test_a_decision_without_a_gate_gets_the_one_its_code_names() -> None:
    assert Decision("HALT", "HALT_CONTEXT_INCOMPLETE") == Decision("HALT", "HALT_CONTEXT_INCOMPLETE", "CONTEXT", 1)
    assert Decision("NEUTRAL", "NEUTRAL_HEALTH_RED").precedence_rank == 3
    assert policy.ALL_GATES_PASSED == "ALLOW_ALL_GATES_PASSED"  # the old name, kept for callers


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
    for unclear in (None, "maybe", 1):  # fail closed: never guess the kill switch was off
        with pytest.raises(ValueError):
            PolicyInputs.from_snapshot({**snap, "kill_switch_active": unclear})


def test_frozen() -> None:
    with pytest.raises(FrozenInstanceError):
        GREEN.kill_switch_active = True  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        evaluate(GREEN).decision = "HALT"  # type: ignore[misc]


def test_evaluation_order_constant_matches_evaluate() -> None:
    assert [gate for _, gate, _, _ in policy.EVALUATION_ORDER] == ORDER
    for rank, gate, decision, name in policy.EVALUATION_ORDER:
        expected = GATES[gate][1]
        assert (expected.decision, expected.blocking_gate, expected.precedence_rank) == (decision, name, rank)
