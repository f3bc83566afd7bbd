"""Prevention-checklist cadences: daily items join every preflight; weekly and monthly items run only when
``opscheck preflight --cadence weekly|monthly`` asks for them. An item's cadence is declared once, in the registry
(``Item.cadence``); its scenario carries the matching @cadence_<name> tag (tests/test_traceability.py)."""

from __future__ import annotations

from ops_checks.catalogue import BY_ID, model

OPTIONAL = model.CADENCES  # weekly and monthly: run only when asked for
CADENCES = ("daily", *OPTIONAL)


def parse(value: str | None) -> set[str]:
    """``"weekly,monthly"`` → {"weekly", "monthly"}; raises ValueError on an unknown name."""
    chosen = {v.strip().lower() for v in (value or "").split(",") if v.strip()}
    unknown = chosen - set(CADENCES)
    if unknown:
        raise ValueError(f"unknown cadence {', '.join(sorted(unknown))} (choose from {', '.join(CADENCES)})")
    return chosen


def of_item(item_id: str) -> str | None:
    """The optional cadence an item belongs to (None: runs in every preflight, as does an unknown id)."""
    item = BY_ID.get(item_id)
    return item.cadence if item else None


def selected(item_id: str, chosen: set[str]) -> bool:
    cadence = of_item(item_id)
    return cadence is None or cadence in chosen
