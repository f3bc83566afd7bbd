"""One catalogue item: our own short title for a runbook's checklist row (id, title, section, severity).

Ids follow DESIGN.md §4. Severity ``blocker`` fails the verdict; ``warning`` is reported and does not block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LIVE_RUNBOOK = "Live Trading Runbook"
SOP = "Incident Response SOP"

BLOCKER = "blocker"
WARNING = "warning"


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    section: str
    severity: str = BLOCKER
    runbook: str = LIVE_RUNBOOK
    live_severity: str | None = None  # when the item weighs differently on the live target

    @property
    def tag(self) -> str:
        return tag_for(self.id)

    def severity_on(self, target: str | None) -> str:
        return self.live_severity if target == "live" and self.live_severity else self.severity


def tag_for(item_id: str) -> str:
    """Marker-safe tag of an item id: 4.4.3 → rb_4_4_3, sop.4.2 → sop_4_2."""
    if item_id.startswith("sop."):
        return "sop_" + item_id[4:].replace(".", "_")
    return "rb_" + item_id.replace(".", "_")


def id_for_tag(tag: str) -> str | None:
    if m := re.fullmatch(r"rb_(\d+(?:_\d+)+)", tag):
        return m.group(1).replace("_", ".")
    if m := re.fullmatch(r"sop_([a-z0-9_]+)", tag):
        return "sop." + m.group(1).replace("_", ".")
    return None
