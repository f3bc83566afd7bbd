"""Live Trading Runbook §7 Audit Extraction Steps: items 7.2.1–7.6.2.

Ids (DESIGN.md §4): §7.3's numbered queries keep their numbers; the script of §7.2 gives two items (the export,
its verification), §7.4's script one (the monthly report), §7.5's two query blocks three items (missing days and
gaps from the first block, orphan trades from the second), §7.6's policy table two (its Retention Period and its
Deletion Procedure columns, verified across the audit tables).
"""

from __future__ import annotations

from ops_checks.item import WARNING, Item

S72 = "7.2 Full Audit Export"
S73 = "7.3 Specific Audit Queries"
S74 = "7.4 Compliance Report Generation"
S75 = "7.5 Audit Data Integrity Verification"
S76 = "7.6 Audit Retention Policy"

ITEMS: tuple[Item, ...] = (
    Item("7.2.1", "Audit tables exported", S72),
    Item("7.2.2", "Export verified against checksums and database", S72),
    Item("7.3.1", "Policy decision summary", S73, WARNING),
    Item("7.3.2", "Kill switch activations", S73, WARNING),
    Item("7.3.3", "Trade execution audit", S73),
    Item("7.3.4", "AI confidence vs policy decision", S73, WARNING),
    Item("7.4.1", "Monthly compliance report", S74, WARNING),
    Item("7.5.1", "No day without decisions", S75),
    Item("7.5.2", "No gap in decisions", S75),
    Item("7.5.3", "Every trade has a policy decision", S75),
    Item("7.6.1", "Audit rows retained", S76),
    Item("7.6.2", "Bot role cannot delete audit rows", S76, WARNING),
)
