"""The item registry: every runbook item, declared once in ``ops_checks/catalogue/items/`` with all of its metadata (id,
title, section, severity, failure category, mutating, cadence, check, preconditions, drill: see
``catalogue/model.py``).

Ids follow DESIGN.md §4. Severity ``blocker`` fails the verdict; ``warning`` is reported and does not block.
"""

from __future__ import annotations

from ops_checks.catalogue.items import all_items
from ops_checks.catalogue.model import (
    BLOCKER,
    CONFIGURATION,
    KILL_SWITCH,
    LIVE_RUNBOOK,
    MONTHLY,
    SOP,
    TOPICS,
    WARNING,
    WEEKLY,
    Drill,
    Given,
    Item,
    id_for_tag,
    tag_for,
)

__all__ = [
    "BLOCKER",
    "BY_ID",
    "BY_TAG",
    "ITEMS",
    "KILL_SWITCH",
    "LIVE_RUNBOOK",
    "MONTHLY",
    "SOP",
    "TOPICS",
    "WARNING",
    "WEEKLY",
    "Drill",
    "Given",
    "Item",
    "category_of",
    "id_for_tag",
    "items_about",
    "items_in",
    "mutating_ids",
    "section_of",
    "tag_for",
]

ITEMS: tuple[Item, ...] = all_items()
BY_ID: dict[str, Item] = {i.id: i for i in ITEMS}
BY_TAG: dict[str, Item] = {i.tag: i for i in ITEMS}


def section_of(item_id: str) -> str:
    item = BY_ID.get(item_id)
    return item.section if item else item_id.rsplit(".", 1)[0]


def category_of(item_id: str) -> str:
    """The failure category of an item; an unknown id is a configuration problem."""
    item = BY_ID.get(item_id)
    return item.category if item else CONFIGURATION


def mutating_ids() -> set[str]:
    """The items whose check writes to the target."""
    return {i.id for i in ITEMS if i.mutating}


def items_in(section: str) -> tuple[Item, ...]:
    """The items of a runbook section or its subsections, in registry order: ``items_in("4.4")`` → 4.4.1–4.4.6,
    ``items_in("4")`` → every §4 item."""
    return tuple(i for i in ITEMS if f"{i.section.split(' ')[0]}.".startswith(f"{section}."))


def items_about(topic: str) -> tuple[Item, ...]:
    """The items the registry files under ``topic`` (one of TOPICS: ``kill_switch``), in registry order."""
    return tuple(i for i in ITEMS if topic in i.topics)
