"""Live Trading Runbook §8 Exchange Clock Drift Verification: 8.5.1–8.5.3, 8.6.1–8.6.5, 8.7.1–8.7.4.

§8.5's three PromQL lines are 8.5.1–8.5.3 and §8.7's four bands 8.7.1–8.7.4 (DESIGN.md §4: section + row).
The bands: 8.7.1 (0–500 healthy) asks that the band be *measured*, i.e. offset ± bound lies in one band;
8.7.2 (500–800) and 8.7.3 (800–1000) fail as warnings when the drift is in them (GO, visibly); 8.7.4 (> 1000
NEUTRAL) checks the action of its row: the bot's guard reads the true drift and goes NEUTRAL above 1000 ms.
Whether the drift itself is below 1000 ms is 8.6.2's question, so a drift of 1.5 s fails that item alone.
"""

from __future__ import annotations

from ops_checks.item import WARNING, Item

S85 = "8.5 Clock Drift Monitoring Dashboard"
S86 = "8.6 Clock Drift Verification Checklist"
S87 = "8.7 Clock Drift Alert Thresholds"

ITEMS: tuple[Item, ...] = (
    Item("8.5.1", "Drift gauge exported and within tolerance", S85),
    Item("8.5.2", "No drift-exceeded events in the window", S85),
    Item("8.5.3", "No time-sync failures in the window", S85),
    Item("8.6.1", "Exchange time reachable", S86),
    Item("8.6.2", "Drift < 1000 ms (measured with its bound)", S86),
    Item("8.6.3", "Host NTP synchronised", S86),
    Item("8.6.4", "Bot time-sync logs OK", S86),
    Item("8.6.5", "Signed API request accepted", S86),
    Item("8.7.1", "Drift band decided by measurement", S87, WARNING),
    Item("8.7.2", "Drift not in the warning band (500-800 ms)", S87, WARNING),
    Item("8.7.3", "Drift not in the critical band (800-1000 ms)", S87, WARNING),
    Item("8.7.4", "NEUTRAL above 1000 ms: bot guard reads the true drift", S87),
)
