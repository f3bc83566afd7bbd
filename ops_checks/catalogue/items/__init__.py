"""Item registry, one module per runbook area. Each module defines ``ITEMS: tuple[Item, ...]`` (``Item`` lives in
``model.py``, below every area module: the area modules import it from there, never from ``ops_checks.catalogue``).

Modules are discovered by name (``s<N>_*.py`` for the live runbook, ``sop_*.py`` for the incident SOP), so an
area adds its items without touching a shared list.
"""

from __future__ import annotations

import importlib
import pkgutil

from ops_checks.catalogue.model import Item


def all_items() -> tuple[Item, ...]:
    items: list[Item] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name == "model":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        items.extend(getattr(module, "ITEMS", ()))
    ids = [i.id for i in items]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate catalogue ids: {sorted(duplicates)}")
    return tuple(items)
