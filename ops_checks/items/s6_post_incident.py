"""Live Trading Runbook §6 Post-Incident Checklist: §6.1's actions (6.1.1–6.1.6) and §6.4's checks (6.4.1–6.4.8)."""

from __future__ import annotations

from ops_checks.item import Item

S61 = "6.1 Immediate Post-Incident Actions"
S64 = "6.4 Pre-Resume Verification"

ITEMS: tuple[Item, ...] = (
    Item("6.1.1", "Kill switch confirmed active", S61),
    Item("6.1.2", "Incident trigger documented", S61),
    Item("6.1.3", "System state captured", S61),
    Item("6.1.4", "Relevant logs exported", S61),
    Item("6.1.5", "Stakeholders notified", S61),
    Item("6.1.6", "Open positions assessed", S61),
    Item("6.4.1", "Root cause identified", S64),
    Item("6.4.2", "Fix implemented (if applicable)", S64),
    Item("6.4.3", "Kill switch deactivated only at resume", S64),
    Item("6.4.4", "Health status GREEN", S64),
    Item("6.4.5", "Budget integration loaded", S64),
    Item("6.4.6", "Clock drift within tolerance", S64),
    Item("6.4.7", "Exchange connectivity OK", S64),
    Item("6.4.8", "Daily P&L reset", S64),
)
