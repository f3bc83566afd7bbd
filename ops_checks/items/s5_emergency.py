"""Live Trading Runbook §5 Emergency Shutdown: levels L1–L4 (5.2.1–5.5.1) and the checklist (5.7.1–5.7.6)."""

from __future__ import annotations

from ops_checks.item import Item

S52 = "5.2 L1: Kill Switch Activation"
S53 = "5.3 L2: Stop Trading Services"
S54 = "5.4 L3: Full Service Shutdown"
S55 = "5.5 L4: Full Shutdown with API Revocation"
S57 = "5.7 Emergency Shutdown Checklist"

ITEMS: tuple[Item, ...] = (
    Item("5.2.1", "L1 one-liner halts trading", S52),
    Item("5.3.1", "L2 bot stop leaves no exchange traffic", S53),
    Item("5.4.1", "L3 full stop", S54),
    Item("5.5.1", "L4 revocation checklist and audit dump", S55),
    Item("5.7.1", "Kill switch activated", S57),
    Item("5.7.2", "Trading services stopped", S57),
    Item("5.7.3", "Open positions reviewed", S57),
    Item("5.7.4", "Incident logged", S57),
    Item("5.7.5", "Stakeholders notified", S57),
    Item("5.7.6", "Root cause identified", S57),
)
