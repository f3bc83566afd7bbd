"""Prevention-checklist cadences: daily items join every preflight; weekly and monthly items run only when
``opscheck preflight --cadence weekly|monthly`` asks for them (their scenarios carry @cadence_<name>)."""

from __future__ import annotations

CADENCES = ("daily", "weekly", "monthly")
OPTIONAL = ("weekly", "monthly")


def parse(value: str | None) -> set[str]:
    """``"weekly,monthly"`` → {"weekly", "monthly"}; raises ValueError on an unknown name."""
    chosen = {v.strip().lower() for v in (value or "").split(",") if v.strip()}
    unknown = chosen - set(CADENCES)
    if unknown:
        raise ValueError(f"unknown cadence {', '.join(sorted(unknown))} (choose from {', '.join(CADENCES)})")
    return chosen


def of_item(item_id: str) -> str | None:
    """The optional cadence an item belongs to (None: runs in every preflight)."""
    parts = item_id.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "sop" and parts[1] in OPTIONAL else None


def selected(item_id: str, chosen: set[str]) -> bool:
    cadence = of_item(item_id)
    return cadence is None or cadence in chosen
