"""Runbook §2.4's rotation periods: secret name → (row id, period in days). No imports, so the item catalogue
and the checks can both read it without an import cycle."""

from __future__ import annotations

ROTATION_ROWS: dict[str, tuple[str, int]] = {
    "VALR_API_KEY": ("2.4.1", 90),
    "VALR_API_SECRET": ("2.4.2", 90),
    "SOVEREIGN_SECRET": ("2.4.3", 180),
    "GUARDIAN_RESET_CODE": ("2.4.4", 90),
    "OPENROUTER_API_KEY": ("2.4.5", 90),
}
