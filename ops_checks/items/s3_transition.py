"""Live Trading Runbook §3 DRY_RUN to LIVE Transition: §3.1's requirements (3.1.1–3.1.6) and §3.3's checklist
rows (3.3.1–3.3.10, DESIGN.md §4's row rule)."""

from __future__ import annotations

from ops_checks.item import Item

S31 = "3.1 Pre-Transition Requirements"
S33 = "3.3 Transition Checklist"

ITEMS: tuple[Item, ...] = (
    Item("3.1.1", "24-hour DRY_RUN period completed", S31),
    Item("3.1.2", "All §1 preconditions verified", S31),
    Item("3.1.3", "All §2 environment variables verified", S31),
    Item("3.1.4", "Kill switch tested per §4", S31),
    Item("3.1.5", "Clock drift verified per §8", S31),
    Item("3.1.6", "Two authorised operators present", S31),
    Item("3.3.1", "Audit record created", S33),
    Item("3.3.2", "Services stopped", S33),
    Item("3.3.3", "Backup created", S33),
    Item("3.3.4", "Environment updated", S33),
    Item("3.3.5", "Configuration verified", S33),
    Item("3.3.6", "Daily P&L reset", S33),
    Item("3.3.7", "Services started", S33),
    Item("3.3.8", "LIVE mode verified", S33),
    Item("3.3.9", "Test signal successful", S33),
    Item("3.3.10", "Transition complete", S33),
)
