"""Live Trading Runbook §4 Kill Switch Verification: the policy order (4.1.1), §4.4's six steps, §4.5's timing."""

from __future__ import annotations

from functools import partial

from ops_checks.catalogue.model import BLOCKER, DATABASE, KILL_SWITCH, SAFETY_GATE, WARNING, Drill, Item, table

S41 = "4.1 Kill Switch Overview"
S44 = "4.4 Kill Switch Verification Checklist"
S45 = "4.5 Kill Switch Response Time"

# A procedure step, not a Target -> CheckResult function: §4.3's flow (kill_switch.run_flow, returning a
# KillSwitchFlow) runs once per session (the plugin's kill_switch_flow fixture, on both targets), and each item's
# When step reads its step from it (kill_switch.flow_result).
FLOW = Drill("kill_switch_flow", read="ops_checks.procedures.kill_switch:flow_result")
_step = partial(
    Item,
    category=SAFETY_GATE,
    check="ops_checks.procedures.kill_switch:run_flow",
    drill=FLOW,
    mutating=True,
    topics=(KILL_SWITCH,),
)
# the flow writes circuit_breaker_events and reads the bot's decisions (policy_decision_audit) at every step: a role
# that cannot read them leaves every step not verified, under that grant's one cause (never a "database error" each)
_KILL_SWITCH = (DATABASE, table("circuit_breaker_events"), table("policy_decision_audit"))

ITEMS: tuple[Item, ...] = (
    # In the sandbox the reference bot implements §4.1 exactly, so a disagreement is a defect (blocker); on live a
    # newer bot may legitimately log reason codes the runbook does not know yet, so it is reported (warning).
    Item(
        "4.1.1",
        "Recorded decisions follow the evaluation order",
        S41,
        BLOCKER,
        live_severity=WARNING,
        category=SAFETY_GATE,
        check="ops_checks.checks.s4_kill_switch.conformance:replay_recent",
        preconditions=(DATABASE, table("policy_decision_audit")),
        when="the recent policy decisions are replayed through the evaluation order",
    ),
    _step(
        "4.4.1",
        "Initial state checked",
        S44,
        preconditions=_KILL_SWITCH,
        when="the kill switch's current state is checked",
    ),
    _step("4.4.2", "Kill switch activated", S44, preconditions=_KILL_SWITCH, when="the kill switch is activated"),
    _step(
        "4.4.3",
        "HALT decision verified",
        S44,
        preconditions=_KILL_SWITCH,
        when="the bot's policy decisions are watched for HALT",
    ),
    _step(
        "4.4.4",
        "Test trade rejected",
        S44,
        preconditions=_KILL_SWITCH,
        when="a signed test trade is sent while the kill switch is active",
    ),
    _step("4.4.5", "Kill switch deactivated", S44, preconditions=_KILL_SWITCH, when="the kill switch is deactivated"),
    _step(
        "4.4.6",
        "ALLOW decision verified",
        S44,
        preconditions=_KILL_SWITCH,
        when="the bot's policy decisions are watched for ALLOW",
    ),
    _step(
        "4.5.1",
        "Kill switch response time",
        S45,
        preconditions=(DATABASE, table("policy_decision_audit")),
        when="the time from the committed UPDATE to the first HALT decision is measured",
    ),
)
