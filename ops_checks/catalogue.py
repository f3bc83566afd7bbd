"""The item catalogue: our own short titles for the runbooks' checklist rows (id, title, section, severity).

The model is ``ops_checks.item``; the entries are in ``ops_checks.items`` (one module per runbook area).
"""

from __future__ import annotations

from ops_checks.item import BLOCKER, LIVE_RUNBOOK, SOP, WARNING, Item, id_for_tag, tag_for
from ops_checks.items import all_items

__all__ = ["BLOCKER", "BY_ID", "BY_TAG", "ITEMS", "LIVE_RUNBOOK", "SOP", "WARNING", "Item", "id_for_tag",
           "section_of", "tag_for"]

ITEMS: tuple[Item, ...] = all_items()
BY_ID: dict[str, Item] = {i.id: i for i in ITEMS}
BY_TAG: dict[str, Item] = {i.tag: i for i in ITEMS}


def section_of(item_id: str) -> str:
    item = BY_ID.get(item_id)
    return item.section if item else item_id.rsplit(".", 1)[0]
