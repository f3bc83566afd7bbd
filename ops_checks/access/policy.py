"""TradePermissionPolicy oracle (runbook §4.1): the documented short-circuit evaluation order, in the bot's terms.

The vocabulary is the real bot's (TRADE_BOT migration 021 ``policy_decision_audit``): decisions ALLOW / NEUTRAL /
HALT; reason codes ``ALLOW_ALL_GATES_PASSED``, ``HALT_KILL_SWITCH``, ``HALT_BUDGET_{HARD_STOP,RDS_EXCEEDED,
STALE_DATA}``, ``NEUTRAL_HEALTH_{YELLOW,RED}``, ``HALT_RISK_CRITICAL``, ``HALT_LATCHED``,
``HALT_CONTEXT_INCOMPLETE``; ``blocking_gate`` (KILL_SWITCH, BUDGET, HEALTH, RISK) and ``precedence_rank`` (1–4)
set exactly when the decision is not ALLOW. Precedence: KILL_SWITCH 1 > BUDGET 2 > HEALTH 3 > RISK 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALLOW = "ALLOW"
HALT = "HALT"
NEUTRAL = "NEUTRAL"
DECISIONS = (ALLOW, NEUTRAL, HALT)

ALLOW_ALL_GATES_PASSED = "ALLOW_ALL_GATES_PASSED"
HALT_KILL_SWITCH = "HALT_KILL_SWITCH"
HALT_BUDGET_HARD_STOP = "HALT_BUDGET_HARD_STOP"
HALT_BUDGET_RDS_EXCEEDED = "HALT_BUDGET_RDS_EXCEEDED"
HALT_BUDGET_STALE_DATA = "HALT_BUDGET_STALE_DATA"
HALT_RISK_CRITICAL = "HALT_RISK_CRITICAL"
NEUTRAL_HEALTH_YELLOW = "NEUTRAL_HEALTH_YELLOW"
NEUTRAL_HEALTH_RED = "NEUTRAL_HEALTH_RED"
HALT_LATCHED = "HALT_LATCHED"
HALT_CONTEXT_INCOMPLETE = "HALT_CONTEXT_INCOMPLETE"
REASON_CODES = (
    ALLOW_ALL_GATES_PASSED,
    HALT_KILL_SWITCH,
    HALT_BUDGET_HARD_STOP,
    HALT_BUDGET_RDS_EXCEEDED,
    HALT_BUDGET_STALE_DATA,
    HALT_RISK_CRITICAL,
    NEUTRAL_HEALTH_YELLOW,
    NEUTRAL_HEALTH_RED,
    HALT_LATCHED,
    HALT_CONTEXT_INCOMPLETE,
)
# Old names kept for callers written before the real vocabulary (the sandbox bot): same values as the bot's.
ALL_GATES_PASSED = ALLOW_ALL_GATES_PASSED
HALT_NO_SETTINGS = HALT_CONTEXT_INCOMPLETE

GATE_KILL_SWITCH = "KILL_SWITCH"
GATE_BUDGET = "BUDGET"
GATE_HEALTH = "HEALTH"
GATE_RISK = "RISK"
GATES = (GATE_KILL_SWITCH, GATE_BUDGET, GATE_HEALTH, GATE_RISK)  # precedence order: rank = index + 1
GATE_CONTEXT = "CONTEXT"  # HALT_CONTEXT_INCOMPLETE: the inputs could not be read (rank 1, before every gate)
GATE_LATCH = "LATCH"  # HALT_LATCHED when the latched gate is unknown (the bot's fallback name, rank 1)

BUDGET_ALLOW = "ALLOW"
BUDGET_SIGNALS = ("ALLOW", "HARD_STOP", "RDS_EXCEEDED", "STALE_DATA")
HEALTH_GREEN = "GREEN"
HEALTH_STATUSES = ("GREEN", "YELLOW", "RED")
RISK_CRITICAL = "CRITICAL"
RISK_ASSESSMENTS = ("HEALTHY", "WARNING", "CRITICAL")

_BUDGET_CODES = {
    "HARD_STOP": HALT_BUDGET_HARD_STOP,
    "RDS_EXCEEDED": HALT_BUDGET_RDS_EXCEEDED,
    "STALE_DATA": HALT_BUDGET_STALE_DATA,
}
_HEALTH_CODES = {"YELLOW": NEUTRAL_HEALTH_YELLOW, "RED": NEUTRAL_HEALTH_RED}

#: The evaluation order of §4.1, highest priority first: (rank, input, decision, gate).
EVALUATION_ORDER: tuple[tuple[int, str, str, str], ...] = (
    (1, "kill_switch_active", HALT, GATE_KILL_SWITCH),
    (2, "budget_signal", HALT, GATE_BUDGET),
    (3, "health_status", NEUTRAL, GATE_HEALTH),
    (4, "risk_assessment", HALT, GATE_RISK),
)


def rank(gate: str) -> int:
    return 1 if gate in (GATE_CONTEXT, GATE_LATCH) else GATES.index(gate) + 1


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
        """Rebuild inputs from an audit context_snapshot; extra keys are ignored, a missing one raises KeyError and
        a kill-switch value that is not a boolean raises ValueError (fail closed: never guess it was off)."""
        ks = snapshot["kill_switch_active"]
        if isinstance(ks, str) and ks.strip().lower() in ("true", "t", "1", "yes", "false", "f", "0", "no"):
            ks = ks.strip().lower() in ("true", "t", "1", "yes")
        if not isinstance(ks, bool):
            raise ValueError(f"kill_switch_active is {ks!r}, not a boolean")
        return cls(
            kill_switch_active=ks,
            budget_signal=str(snapshot["budget_signal"]),
            health_status=str(snapshot["health_status"]),
            risk_assessment=str(snapshot["risk_assessment"]),
        )


@dataclass(frozen=True)
class Decision:
    decision: str
    reason_code: str
    blocking_gate: str | None = None
    precedence_rank: int | None = None

    def __post_init__(self) -> None:
        if self.decision != ALLOW and self.blocking_gate is None:  # migration 021: NOT NULL exactly when not ALLOW
            gate = _gate_of(self.reason_code)
            object.__setattr__(self, "blocking_gate", gate)
            object.__setattr__(self, "precedence_rank", rank(gate))

    def describe(self) -> str:
        gate = f" gate {self.blocking_gate}/{self.precedence_rank}" if self.blocking_gate else ""
        return f"{self.decision}/{self.reason_code}{gate}"


def _gate_of(reason_code: str) -> str:
    if reason_code == HALT_CONTEXT_INCOMPLETE:
        return GATE_CONTEXT
    if reason_code == HALT_LATCHED:
        return GATE_LATCH
    if reason_code == HALT_KILL_SWITCH:
        return GATE_KILL_SWITCH
    if reason_code.startswith("HALT_BUDGET"):
        return GATE_BUDGET
    if reason_code.startswith("NEUTRAL_HEALTH"):
        return GATE_HEALTH
    return GATE_RISK


def evaluate(inputs: PolicyInputs) -> Decision:
    """Short-circuit evaluation: the first failing gate decides. Unknown budget/health values fail closed the way
    the bot maps them (budget → HALT_BUDGET_HARD_STOP, health → NEUTRAL_HEALTH_RED)."""
    if inputs.kill_switch_active:
        return Decision(HALT, HALT_KILL_SWITCH, GATE_KILL_SWITCH, 1)
    if inputs.budget_signal != BUDGET_ALLOW:
        return Decision(HALT, _BUDGET_CODES.get(inputs.budget_signal, HALT_BUDGET_HARD_STOP), GATE_BUDGET, 2)
    if inputs.health_status != HEALTH_GREEN:
        return Decision(NEUTRAL, _HEALTH_CODES.get(inputs.health_status, NEUTRAL_HEALTH_RED), GATE_HEALTH, 3)
    if inputs.risk_assessment == RISK_CRITICAL:
        return Decision(HALT, HALT_RISK_CRITICAL, GATE_RISK, 4)
    return Decision(ALLOW, ALLOW_ALL_GATES_PASSED)
