"""The verdict: GO only if every blocker item passed (or is waived, or out of the declared scope). An error or a
not-verified blocker is NO-GO. The non-passed items are grouped into causes: an item resting on another
(``blocked_by``) joins that item's cause, and items with the same structured cause (kind, subject) share it."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ops_checks.catalogue import BLOCKER, BY_ID, section_of
from ops_checks.core.result import Cause, Status
from ops_checks.verdict.waivers import Waiver, never_waivable

PASSED, FAILED, ERROR, NOT_VERIFIED, NOT_APPLICABLE, WAIVED = (
    Status.PASSED.value,
    Status.FAILED.value,
    Status.ERROR.value,
    Status.NOT_VERIFIED.value,
    Status.NOT_APPLICABLE.value,
    Status.WAIVED.value,
)
STATUSES = (PASSED, FAILED, ERROR, NOT_VERIFIED, NOT_APPLICABLE, WAIVED)
MET = frozenset({PASSED, WAIVED, NOT_APPLICABLE})  # a blocker in one of these does not block
OPEN = frozenset({FAILED, ERROR, NOT_VERIFIED})  # what a cause groups
LABELS = {
    PASSED: "PASSED",
    FAILED: "FAILED",
    ERROR: "ERROR",
    NOT_VERIFIED: "NOT VERIFIED",
    NOT_APPLICABLE: "N/A",
    WAIVED: "WAIVED",
}
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
    cause: dict[str, str] | None = None  # Cause.as_json(): kind, subject, detail, remedy
    blocked_by: list[str] = field(default_factory=list)


def outcome(
    item_id: str,
    status: str,
    reason: str = "",
    target: str | None = None,
    *,
    cause: Cause | None = None,
    blocked_by: tuple[str, ...] | list[str] = (),
) -> ItemOutcome:
    item = BY_ID.get(item_id)
    return ItemOutcome(
        id=item_id,
        title=item.title if item else item_id,
        severity=item.severity_on(target) if item else BLOCKER,
        status=Status(status).value,
        reason=reason,
        section=section_of(item_id),
        cause=cause.as_json() if cause is not None else None,
        blocked_by=[b for b in blocked_by if b != item_id],
    )


def decide(items: list[ItemOutcome], *, partial: bool = False) -> str:
    """GO only when there is at least one item and every blocker passed (or is under an approved waiver).

    A run that left out items of the default preflight (``partial``) is at best PARTIAL, never GO.
    """
    if not items:
        return NO_GO
    if not all(i.status in MET for i in items if i.severity == BLOCKER):
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
            i = replace(i, status=WAIVED, reason=reason)
        out.append(i)
    return out


def _root(item: ItemOutcome, by_id: dict[str, ItemOutcome]) -> ItemOutcome:
    """The item whose problem this one rests on: follow ``blocked_by`` through open (failed, error, not verified)
    items of this run; an item whose blockers all met (or are not in the run) is its own root."""
    seen = {item.id}
    current = item
    while True:
        nxt = next(
            (
                by_id[b]
                for b in current.blocked_by
                if b in by_id and by_id[b].status in OPEN and by_id[b].id not in seen
            ),
            None,
        )
        if nxt is None:
            return current
        seen.add(nxt.id)
        current = nxt


def _default_remedy(root: ItemOutcome) -> str:
    return f"make item {root.id} ({root.title}) hold, then re-run: opscheck preflight -m rb_{root.id.replace('.', '_')}"


def causes(items: list[ItemOutcome]) -> list[dict[str, Any]]:
    """The open items grouped into causes, most items first: each with an id (C1, C2 …), a one-line summary, its
    kind and subject, a remedy, its root item(s) and every item it explains. Warnings join causes too, but a cause
    whose items are all warnings is marked ``blocking: false``."""
    by_id = {i.id: i for i in items}
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for item in sorted((i for i in items if i.status in OPEN), key=lambda i: sort_key(i.id)):
        root = _root(item, by_id)
        cause = root.cause
        key = (cause["kind"], cause["subject"]) if cause else ("item", root.id)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "kind": cause["kind"] if cause else "item",
                "subject": cause["subject"] if cause else root.id,
                "summary": (cause["detail"] if cause else "") or f"{root.id} {root.title}: {root.reason}",
                "remedy": (cause.get("remedy") if cause else "") or _default_remedy(root),
                "roots": [],
                "items": [],
                "blocking": False,
            }
        if root.id not in group["roots"]:
            group["roots"].append(root.id)
        group["items"].append(item.id)
        group["blocking"] = group["blocking"] or item.severity == BLOCKER
    ordered = sorted(groups.values(), key=lambda g: (not g["blocking"], -len(g["items"]), sort_key(g["roots"][0])))
    for n, group in enumerate(ordered, start=1):
        group["id"] = f"C{n}"
    return [{"id": g.pop("id"), **g} for g in ordered]


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
    scope: dict[str, Any] | None = None,
) -> dict[str, Any]:
    items = sorted(items, key=lambda i: sort_key(i.id))
    counts = Counter(i.status for i in items)
    selection = selection or {"complete": True, "left_out": []}
    found = causes(items)
    cause_of = {item: c["id"] for c in found for item in c["items"]}
    rows = []
    for i in items:
        row = {k: v for k, v in asdict(i).items() if k != "section"}
        row["cause_id"] = cause_of.get(i.id)
        rows.append(row)
    return {
        "verdict": decide(items, partial=not selection.get("complete", True)),
        "selection": selection,
        "waivers": list(waivers_in_force or []),
        "scope": scope,  # the operator's declared scope (target/scope.py Scope.as_json): what is not applicable
        "target": target,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "operator": operator,
        "witness": witness,
        "causes": found,
        "items": rows,
        "counts": {s: counts.get(s, 0) for s in STATUSES} | {"total": len(items)},
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
    """Per-section table; then the causes, each with its remedy and the items it explains; then every other
    non-passing item on one line (an item explained by a cause points at it instead of repeating it); then the
    verdict line."""
    by_section: dict[str, Counter[str]] = {}
    for i in verdict["items"]:
        by_section.setdefault(section_of(i["id"]), Counter())[i["status"]] += 1
    width = max([len(s) for s in by_section] + [20])
    out = [f"{'section':<{width}}  passed  failed  error  not verified  n/a  waived"]
    for section in sorted(by_section, key=lambda s: sort_key(s.split(" ")[0])):
        c = by_section[section]
        out.append(
            f"{section:<{width}}  {c[PASSED]:>6}  {c[FAILED]:>6}  {c[ERROR]:>5}  {c[NOT_VERIFIED]:>12}  "
            f"{c[NOT_APPLICABLE]:>3}  {c[WAIVED]:>6}"
        )
    found = verdict.get("causes") or []
    by_id = {i["id"]: i for i in verdict["items"]}
    if found:
        out.append("")
        for c in found:
            kind = "" if c.get("blocking", True) else " (warnings only)"
            out.append(f"CAUSE {c['id']}{kind}: {c['summary']}")
            out.append(f"  remedy: {c['remedy']}")
            explained = [x for x in c["items"] if x not in c["roots"]]
            roots = ", ".join(f"{r} {LABELS.get(by_id[r]['status'], '')}".strip() for r in c["roots"] if r in by_id)
            out.append(f"  items: {roots}" + (f"; and, resting on it: {', '.join(explained)}" if explained else ""))
    problems = [i for i in verdict["items"] if i["status"] != PASSED]
    if problems:
        out.append("")
        for i in problems:
            label = "WARNING" if i["status"] == FAILED and i["severity"] != BLOCKER else LABELS.get(i["status"], "")
            cause = i.get("cause_id")
            text = i["reason"]
            if cause and i["id"] not in next((c["roots"] for c in found if c["id"] == cause), []):
                text = f"see {cause} ({', '.join(i.get('blocked_by') or []) or 'same cause'})"
            out.append(f"{label:<12} {i['id']:<8} [{i['severity']}] {i['title']}: {text}")
    for warning in verdict.get("warnings", []):
        out.append(f"{'NOTE':<12} {warning}")
    left_out = (verdict.get("selection") or {}).get("left_out") or []
    if left_out:
        out.append(f"{'PARTIAL':<12} this selection left out {len(left_out)} item(s) of the daily preflight")
    c = verdict["counts"]
    open_items = sum(len(x["items"]) for x in found if x.get("blocking", True))
    head = f"VERDICT: {verdict['verdict']}"
    if verdict["verdict"] != GO and found:
        blocking = [x for x in found if x.get("blocking", True)]
        plural = ("s" if len(blocking) != 1 else "", "s" if open_items != 1 else "")
        head += f" — {len(blocking)} cause{plural[0]}, {open_items} item{plural[1]}"
    out += [
        "",
        f"{head}  ({c['passed']}/{c['total']} passed, {c['failed']} failed, {c.get('error', 0)} error, "
        f"{c.get('not_verified', 0)} not verified, {c.get('not_applicable', 0)} not applicable, "
        f"{c.get('waived', 0)} waived) target={verdict['target']}",
    ]
    return "\n".join(out)
