"""TradePermissionPolicy oracle (runbook §4.1): the documented short-circuit evaluation order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALLOW = "ALLOW"
HALT = "HALT"
NEUTRAL = "NEUTRAL"

HALT_KILL_SWITCH = "HALT_KILL_SWITCH"
HALT_BUDGET = "HALT_BUDGET"
NEUTRAL_HEALTH_DEGRADED = "NEUTRAL_HEALTH_DEGRADED"
HALT_RISK_CRITICAL = "HALT_RISK_CRITICAL"
ALL_GATES_PASSED = "ALL_GATES_PASSED"
HALT_NO_SETTINGS = "HALT_NO_SETTINGS"

BUDGET_ALLOW = "ALLOW"
HEALTH_GREEN = "GREEN"
RISK_CRITICAL = "CRITICAL"

#: The evaluation order of §4.1, highest priority first: (rank, gate, decision, reason_code).
EVALUATION_ORDER: tuple[tuple[int, str, str, str], ...] = (
    (1, "kill_switch_active", HALT, HALT_KILL_SWITCH),
    (2, "budget_signal", HALT, HALT_BUDGET),
    (3, "health_status", NEUTRAL, NEUTRAL_HEALTH_DEGRADED),
    (4, "risk_assessment", HALT, HALT_RISK_CRITICAL),
)


@dataclass(frozen=True)
class PolicyInputs:
    kill_switch_active: bool
    budget_signal: str
    health_status: str
    risk_assessment: str

    def to_snapshot(self) -> dict[str, Any]:
        return {
            "kill_switch_active": self.kill_switch_active,
            "budget_signal": self.budget_signal,
            "health_status": self.health_status,
            "risk_assessment": self.risk_assessment,
        }

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any]) -> PolicyInputs:
        """Rebuild inputs from an audit context_snapshot; extra keys are ignored, missing ones raise KeyError."""
        ks = snapshot["kill_switch_active"]
        if isinstance(ks, str):
            ks = ks.strip().lower() in ("true", "t", "1", "yes")
        return cls(
            kill_switch_active=bool(ks),
            budget_signal=str(snapshot["budget_signal"]),
            health_status=str(snapshot["health_status"]),
            risk_assessment=str(snapshot["risk_assessment"]),
        )


@dataclass(frozen=True)
class Decision:
    decision: str
    reason_code: str


def evaluate(inputs: PolicyInputs) -> Decision:
    """Short-circuit evaluation: the first failing gate decides."""
    if inputs.kill_switch_active:
        return Decision(HALT, HALT_KILL_SWITCH)
    if inputs.budget_signal != BUDGET_ALLOW:
        return Decision(HALT, HALT_BUDGET)
    if inputs.health_status != HEALTH_GREEN:
        return Decision(NEUTRAL, NEUTRAL_HEALTH_DEGRADED)
    if inputs.risk_assessment == RISK_CRITICAL:
        return Decision(HALT, HALT_RISK_CRITICAL)
    return Decision(ALLOW, ALL_GATES_PASSED)
