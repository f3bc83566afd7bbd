"""Live Trading Runbook §4 Kill Switch Verification: the policy order (4.1.1), §4.4's six steps, §4.5's timing."""

from __future__ import annotations

from ops_checks.item import BLOCKER, WARNING, Item

S41 = "4.1 Kill Switch Overview"
S44 = "4.4 Kill Switch Verification Checklist"
S45 = "4.5 Kill Switch Response Time"

ITEMS: tuple[Item, ...] = (
    # In the sandbox the reference bot implements §4.1 exactly, so a disagreement is a defect (blocker); on live a
    # newer bot may legitimately log reason codes the runbook does not know yet, so it is reported (warning).
    Item("4.1.1", "Recorded decisions follow the evaluation order", S41, BLOCKER, live_severity=WARNING),
    Item("4.4.1", "Initial state checked", S44),
    Item("4.4.2", "Kill switch activated", S44),
    Item("4.4.3", "HALT decision verified", S44),
    Item("4.4.4", "Test trade rejected", S44),
    Item("4.4.5", "Kill switch deactivated", S44),
    Item("4.4.6", "ALLOW decision verified", S44),
    Item("4.5.1", "Kill switch response time", S45),
)
