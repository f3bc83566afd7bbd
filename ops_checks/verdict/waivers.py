"""Waivers (``waivers.yml``): an approved, expiring exception for one item.

A waived item that did not pass is reported as ``waived`` with its justification and does not block. An expired
waiver is ignored with a warning. The kill switch (§1.3.1, §4) and the audit integrity items (§7.5) can never be
waived: a file that tries is refused whole (the run cannot start).

    - item: "1.4.3"
      justification: "Grafana migration in progress; dashboards restored by Friday"
      approver: "Head of Trading Ops"
      expires: 2026-12-01
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

from ops_checks.catalogue import BY_ID
from ops_checks.core import safe_read

# Never waivable: every item that proves the kill switch works or is armed (§4, 1.3.1, 2.2.3, 3.1.4, 5.2.1, 5.7.1,
# 6.1.1, the SOP's kill-switch procedure sop.7 and its drills sop.8.2 and sop.daily.4), and audit integrity (§7.5).
UNWAIVABLE_PREFIXES = ("4.", "7.5.", "sop.7.")
UNWAIVABLE_ITEMS = ("1.3.1", "2.2.3", "3.1.4", "5.2.1", "5.7.1", "6.1.1", "sop.8.2", "sop.daily.4")


ENV = "OPSCHECK_WAIVERS"  # the only other place waivers come from besides --waivers FILE


class WaiverError(Exception):
    """The waiver file is refused; one-line reason."""


@dataclass(frozen=True)
class Waiver:
    item: str
    justification: str
    approver: str
    expires: date

    def active(self, today: date) -> bool:
        return today <= self.expires


def never_waivable(item_id: str) -> bool:
    return item_id in UNWAIVABLE_ITEMS or item_id.startswith(UNWAIVABLE_PREFIXES)


def load(path: Path) -> list[Waiver]:
    try:
        data = safe_read.load_yaml(safe_read.read_text(path))
    except safe_read.UnsafeFile as exc:
        raise WaiverError(f"cannot read waivers: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        own = str(exc) if type(exc) is yaml.YAMLError else ""  # safe_read's refusal of anchors/aliases
        raise WaiverError(f"{path}{where}: {own or 'not valid YAML'}") from exc
    if data is None:
        return []
    if not isinstance(data, list):
        raise WaiverError(f"{path}: expected a list of waivers")
    waivers: list[Waiver] = []
    for n, entry in enumerate(data, 1):
        if not isinstance(entry, dict):
            raise WaiverError(f"{path}: waiver {n} is not a mapping")
        missing = [k for k in ("item", "justification", "approver", "expires") if not entry.get(k)]
        if missing:
            raise WaiverError(f"{path}: waiver {n} lacks {', '.join(missing)}")
        item = str(entry["item"])
        if item not in BY_ID:  # a typo would look like a waiver in force while the item it meant still blocks
            raise WaiverError(f'{path}: waiver {n} names no runbook item: {item!r} (quote ids in YAML: "1.4.3")')
        if any(w.item == item for w in waivers):
            raise WaiverError(f"{path}: waiver {n} waives {item} again: one waiver per item")
        if never_waivable(item):
            raise WaiverError(
                f"{path}: waiver {n} for item {item} refused: kill-switch and audit-integrity items can never be waived"
            )
        expires = entry["expires"]
        if not isinstance(expires, date):
            try:
                expires = date.fromisoformat(str(expires))
            except ValueError as exc:
                raise WaiverError(f"{path}: waiver {n} expires {expires!r} is not a date (YYYY-MM-DD)") from exc
        waivers.append(Waiver(item, str(entry["justification"]).strip(), str(entry["approver"]).strip(), expires))
    return waivers


def active_for(waivers: list[Waiver], today: date) -> tuple[dict[str, Waiver], list[str]]:
    """The waivers in force today by item, and a warning line for each expired one."""
    active: dict[str, Waiver] = {}
    warnings = []
    for w in waivers:
        if w.active(today):
            active[w.item] = w
        else:
            warnings.append(
                f"waiver for {w.item} expired on {w.expires.isoformat()} (approved by {w.approver}): ignored"
            )
    return active, warnings


def banner(path: Path, loaded: list[Waiver], today: date | None = None) -> str:
    """The lines printed before a run: which file, and each waiver in force (or expired and ignored)."""
    today = today or date.today()
    lines = [f"WAIVERS from {path}: {sum(w.active(today) for w in loaded)} in force"]
    for w in loaded:
        state = (
            f"in force until {w.expires.isoformat()}"
            if w.active(today)
            else f"EXPIRED on {w.expires.isoformat()}, ignored"
        )
        lines.append(f"  {w.item}: {state}, approved by {w.approver}: {w.justification}")
    return "\n".join(lines)
