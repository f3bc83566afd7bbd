"""The verdict: GO only if every blocker item passed. A skipped or broken blocker is "not verified": NO-GO."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ops_checks.catalogue import BLOCKER, BY_ID, section_of
from ops_checks.verdict.waivers import Waiver, never_waivable

PASSED, FAILED, BROKEN, SKIPPED, WAIVED = "passed", "failed", "broken", "skipped", "waived"
GO, NO_GO, PARTIAL = "GO", "NO-GO", "PARTIAL"
EXIT_GO, EXIT_NO_GO, EXIT_CANNOT_RUN, EXIT_PARTIAL = 0, 1, 2, 3
EXIT_CODES = {GO: EXIT_GO, NO_GO: EXIT_NO_GO, PARTIAL: EXIT_PARTIAL}


@dataclass
class ItemOutcome:
    id: str
    title: str
    severity: str
    status: str
    reason: str = ""
    section: str = ""


def outcome(item_id: str, status: str, reason: str = "", target: str | None = None) -> ItemOutcome:
    item = BY_ID.get(item_id)
    return ItemOutcome(
        id=item_id,
        title=item.title if item else item_id,
        severity=item.severity_on(target) if item else BLOCKER,
        status=status,
        reason=reason,
        section=section_of(item_id),
    )


def decide(items: list[ItemOutcome], *, partial: bool = False) -> str:
    """GO only when there is at least one item and every blocker passed (or is under an approved waiver).

    A run that left out items of the default preflight (``partial``) is at best PARTIAL, never GO.
    """
    if not items:
        return NO_GO
    if not all(i.status in (PASSED, WAIVED) for i in items if i.severity == BLOCKER):
        return NO_GO
    return PARTIAL if partial else GO


def apply_waivers(items: list[ItemOutcome], active: dict[str, Waiver]) -> list[ItemOutcome]:
    """A *failed* item under an active waiver becomes ``waived``; its justification leads the reason.

    Only a check that ran and failed can be waived: an item that could not run (broken, or not verified
    because its target was unreachable or it was skipped) stays as it is, so a waiver never hides an outage.
    """
    out = []
    for i in items:
        w = active.get(i.id)
        if w is not None and i.status == FAILED and not never_waivable(i.id):
            reason = (
                f"waived until {w.expires.isoformat()} by {w.approver}: {w.justification} (was {i.status}: {i.reason})"
            )
            i = ItemOutcome(i.id, i.title, i.severity, WAIVED, reason, i.section)
        out.append(i)
    return out


def sort_key(item_id: str) -> tuple[Any, ...]:
    # numbers in order; a named part (sop.daily, sop.weekly …) after every number, names in order: a total order
    return tuple((int(p), "") if p.isdigit() else (10**6, p) for p in item_id.replace("sop.", "99.").split("."))


def build(
    items: list[ItemOutcome],
    *,
    target: str,
    started_at: datetime,
    finished_at: datetime,
    operator: str | None,
    witness: str | None,
    warnings: list[str] | None = None,
    selection: dict[str, Any] | None = None,
    waivers_in_force: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    items = sorted(items, key=lambda i: sort_key(i.id))
    counts = Counter(i.status for i in items)
    selection = selection or {"complete": True, "left_out": []}
    return {
        "verdict": decide(items, partial=not selection.get("complete", True)),
        "selection": selection,
        "waivers": list(waivers_in_force or []),
        "target": target,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "operator": operator,
        "witness": witness,
        "items": [{k: v for k, v in asdict(i).items() if k != "section"} for i in items],
        "counts": {s: counts.get(s, 0) for s in (PASSED, FAILED, BROKEN, SKIPPED, WAIVED)} | {"total": len(items)},
        "warnings": list(warnings or []),
        "results_sha256": None,
    }


VERDICT_FILE, MANIFEST, LOG_FILE, PAGE = "verdict.json", "results.sha256", "pytest.log", "html/index.html"
#: the run's claim: verdict.json and the sign-off page name the manifest's digest, so the manifest cannot list them
CLAIM = (VERDICT_FILE, PAGE)


def results_digest(
    run_dir: Path, exclude: tuple[str, ...] = (VERDICT_FILE, MANIFEST, "html", LOG_FILE), *, sync: bool = False
) -> str:
    """SHA-256 of a manifest (``sha256sum`` format) of every file of the run but ``exclude`` (top-level names or
    relative paths); writes the manifest. ``sync``: each file and the manifest are on disk (fsync) on return."""
    lines = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(run_dir)
        if rel.parts[0] in exclude or rel.as_posix() in exclude:
            continue
        with path.open("rb") as f:
            lines.append(f"{hashlib.sha256(f.read()).hexdigest()}  {rel.as_posix()}")
            if sync:
                os.fsync(f.fileno())
    manifest = "\n".join(lines) + "\n"
    _write_synced(run_dir / MANIFEST, manifest)
    return hashlib.sha256(manifest.encode()).hexdigest()


def _write_synced(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file: the file is whole and on disk (fsync) once renamed."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write(run_dir: Path, verdict: dict[str, Any]) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / VERDICT_FILE
    _write_synced(path, json.dumps(verdict, indent=2) + "\n")
    return path


def render_table(verdict: dict[str, Any]) -> str:
    """Per-section table, then every non-passing item on one line, then the verdict."""
    by_section: dict[str, Counter[str]] = {}
    for i in verdict["items"]:
        by_section.setdefault(section_of(i["id"]), Counter())[i["status"]] += 1
    width = max([len(s) for s in by_section] + [20])
    out = [f"{'section':<{width}}  passed  failed  broken  not verified  waived"]
    for section in sorted(by_section, key=lambda s: sort_key(s.split(" ")[0])):
        c = by_section[section]
        out.append(
            f"{section:<{width}}  {c[PASSED]:>6}  {c[FAILED]:>6}  {c[BROKEN]:>6}  {c[SKIPPED]:>12}  {c[WAIVED]:>6}"
        )
    problems = [i for i in verdict["items"] if i["status"] != PASSED]
    if problems:
        out.append("")
        labels = {SKIPPED: "NOT VERIFIED", BROKEN: "NOT VERIFIED", WAIVED: "WAIVED", FAILED: "FAILED"}
        for i in problems:
            label = "WARNING" if i["status"] == FAILED and i["severity"] != BLOCKER else labels[i["status"]]
            out.append(f"{label:<12} {i['id']:<8} [{i['severity']}] {i['title']}: {i['reason']}")
    for warning in verdict.get("warnings", []):
        out.append(f"{'NOTE':<12} {warning}")
    left_out = (verdict.get("selection") or {}).get("left_out") or []
    if left_out:
        out.append(f"{'PARTIAL':<12} this selection left out {len(left_out)} item(s) of the daily preflight")
    c = verdict["counts"]
    out += [
        "",
        f"VERDICT: {verdict['verdict']}  ({c['passed']}/{c['total']} passed, {c['failed']} failed, "
        f"{c['broken']} broken, {c['skipped']} not verified, {c.get('waived', 0)} waived) "
        f"target={verdict['target']}",
    ]
    return "\n".join(out)
