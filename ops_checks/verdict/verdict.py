"""The verdict: GO only if every blocker item passed (or is waived, or out of the declared scope). An error or a
not-verified blocker is NO-GO. The non-passed items are grouped into causes: an item resting on another
(``blocked_by``) joins that item's cause, and items with the same structured cause (kind, subject) share it."""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ops_checks.catalogue import BLOCKER, BY_ID, section_of, tag_for
from ops_checks.core.result import Cause, Status
from ops_checks.verdict import seal
from ops_checks.verdict.seal import LOG_FILE as LOG_FILE  # the run folder's file names: the CLI reads them here
from ops_checks.verdict.seal import MANIFEST as MANIFEST
from ops_checks.verdict.seal import PAGE as PAGE
from ops_checks.verdict.seal import VERDICT_FILE as VERDICT_FILE
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
#: each status in words, as every output writes it (messages upper-case it: "NOT VERIFIED: …")
WORDS = {
    PASSED: "passed",
    FAILED: "failed",
    ERROR: "error",
    NOT_VERIFIED: "not verified",
    NOT_APPLICABLE: "not applicable",
    WAIVED: "waived",
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
    return f"make item {root.id} ({root.title}) hold, then re-run: opscheck preflight -m {tag_for(root.id)}"


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


#: the run's claim: verdict.json and the sign-off page show the run's hash on their seal line (``seal``)
CLAIM = (VERDICT_FILE, PAGE)


def results_digest(
    run_dir: Path, exclude: tuple[str, ...] = (VERDICT_FILE, MANIFEST, "html", LOG_FILE), *, sync: bool = False
) -> str:
    """Writes ``results.sha256`` (``seal``: ``sha256sum`` lines, paths ``<run-id>/…``, the claim files in their
    canonical form) over every file of the run but ``exclude`` (top-level names or relative paths) and returns its
    SHA-256, the run's hash. ``sync``: each file and the manifest are on disk (fsync) on return."""
    files = [r for r in seal.run_files(run_dir) if r.split("/", 1)[0] not in exclude and r not in exclude]
    manifest = seal.manifest_text(run_dir, files, sync=sync)
    write_synced(run_dir / MANIFEST, manifest)
    return seal.digest_of(manifest)


def write_synced(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file: the file is whole and on disk (fsync) once renamed."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def write(run_dir: Path, verdict: dict[str, Any]) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / VERDICT_FILE
    write_synced(path, seal.dumps(verdict))
    return path


def compact_ids(ids: list[str]) -> str:
    """Item ids as a short list: a run of three or more consecutive siblings is one range (3.3.1–3.3.10)."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        out.extend([f"{run[0]}–{run[-1]}"] if len(run) >= 3 else run)
        run.clear()

    for item_id in ids:
        if run:
            head, _, last = run[-1].rpartition(".")
            nxt_head, _, nxt = item_id.rpartition(".")
            if not (head == nxt_head and last.isdigit() and nxt.isdigit() and int(nxt) == int(last) + 1):
                flush()
        run.append(item_id)
    flush()
    return ", ".join(out)


def points_at(item: dict[str, Any], items: dict[str, dict[str, Any]]) -> list[str]:
    """The causes an item points at, in their order: its own and those of every open item it rests on (``blocked_by``,
    followed through the run): 3.3.1 resting on 3.1.2, which rests on 1.2.1 (C1) and 1.4.3 (C2), points at C1, C2."""
    found: list[str] = []
    seen: set[str] = set()
    todo = [item]
    while todo:
        current = todo.pop(0)
        if current["id"] in seen:
            continue
        seen.add(current["id"])
        if current.get("cause_id") and current["cause_id"] not in found:
            found.append(current["cause_id"])
        todo += [items[b] for b in open_blockers(current, items)]
    return sorted(found, key=lambda c: int(c[1:]) if c[1:].isdigit() else 0)


def open_blockers(item: dict[str, Any], items: dict[str, dict[str, Any]]) -> list[str]:
    """The items of this run an item rests on that did not pass (nor are waived or out of scope)."""
    return [b for b in item.get("blocked_by") or [] if b in items and items[b]["status"] in OPEN]


def cause_items_text(cause: dict[str, Any], items: dict[str, dict[str, Any]]) -> str:
    """``1.2.1, 6.4.7 failed; resting on them: 3.1.2, 3.3.1–3.3.10``: a cause's roots by status, then
    every item it explains; then the items listed under another cause that rest on this one too
    (``also holds up 3.1.2 (under C1)``)."""
    by_status: dict[str, list[str]] = {}
    for r in cause["roots"]:
        if r in items:
            by_status.setdefault(str(items[r]["status"]), []).append(r)
    order = [s for s in STATUSES if s in by_status] + [s for s in by_status if s not in STATUSES]
    roots = "; ".join(f"{compact_ids(by_status[s])} {WORDS.get(s, s)}" for s in order)
    rest = [x for x in cause["items"] if x not in cause["roots"]]
    them = "it" if len(cause["roots"]) == 1 else "them"
    text = roots + (f"; resting on {them}: {compact_ids(rest)}" if rest else "")
    shared: dict[str, list[str]] = {}
    for item in items.values():
        if item["status"] in OPEN and item["id"] not in cause["items"] and cause["id"] in points_at(item, items):
            shared.setdefault(str(item.get("cause_id")), []).append(item["id"])
    for other, ids in sorted(shared.items(), key=lambda kv: int(kv[0][1:]) if kv[0][1:].isdigit() else 0):
        text += f"; also holds up {compact_ids(sorted(ids, key=sort_key))} (under {other})"
    return text


def headline(verdict: dict[str, Any]) -> str:
    """``NO-GO — 4 causes, 16 items``: the verdict and, when it is not GO, how many causes explain how many items."""
    word = str(verdict.get("verdict", NO_GO))
    blocking = [c for c in verdict.get("causes") or [] if c.get("blocking", True)]
    if word == GO or not blocking:
        return word
    n = sum(len(c["items"]) for c in blocking)
    return f"{word} — {len(blocking)} cause{'s' if len(blocking) != 1 else ''}, {n} item{'s' if n != 1 else ''}"


def render_table(verdict: dict[str, Any]) -> str:
    """Per-section table; then the causes (why NO-GO), each with its summary, remedy and the items it explains;
    then every item that did not pass on one line: an item a cause explains points at it (``→ C1``) instead of
    repeating it, and each distinct reason is printed once; last, the ``VERDICT:`` line."""
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
    shown: list[str] = []  # every text printed so far: a reason already said is not said again
    if found:
        blocking = [c for c in found if c.get("blocking", True)]
        title = "WHY NO-GO" if verdict["verdict"] == NO_GO and blocking else "CAUSES"
        counted = headline(verdict).partition(" — ")[2]
        warnings_only = len(found) - len(blocking)
        if counted and warnings_only:
            counted += f"; and {warnings_only} with warnings only"
        out += ["", f"{title}: {counted or f'{len(found)} (warnings only)'}"]
        for c in found:
            kind = "" if c.get("blocking", True) else " (warnings only)"
            out.append(f"{c['id']:<4} {c['summary']}{kind}")
            out.append(f"     remedy: {c['remedy']}")
            out.append(f"     items:  {cause_items_text(c, by_id)}")
            shown.append(c["summary"])
    problems = [i for i in verdict["items"] if i["status"] != PASSED]
    if problems:
        out.append("")
        for i in problems:
            label = "WARNING" if i["status"] == FAILED and i["severity"] != BLOCKER else LABELS.get(i["status"], "")
            head = f"{label:<12} {i['id']:<8} [{i['severity']}] {i['title']}"
            pointers = points_at(i, by_id)
            if not pointers:
                out.append(f"{head}: {i['reason']}" if i["reason"] else head)
                continue
            reason = i["reason"]
            arrow = f"→ {', '.join(pointers)}"
            resting = open_blockers(i, by_id)
            if reason and not resting and not any(reason in text for text in shown):
                shown.append(reason)
                out.append(f"{head}: {reason} {arrow}")
            else:
                out.append(f"{head} {arrow}" + (f" (rests on {compact_ids(resting)})" if resting else ""))
    for warning in verdict.get("warnings", []):
        out.append(f"{'NOTE':<12} {warning}")
    left_out = (verdict.get("selection") or {}).get("left_out") or []
    if left_out:
        out.append(f"{'PARTIAL':<12} this selection left out {len(left_out)} item(s) of the daily preflight")
    c = verdict["counts"]
    out += [
        "",
        f"VERDICT: {headline(verdict)}  ({c['passed']}/{c['total']} passed, {c['failed']} failed, "
        f"{c.get('error', 0)} error, {c.get('not_verified', 0)} not verified, "
        f"{c.get('not_applicable', 0)} not applicable, {c.get('waived', 0)} waived) target={verdict['target']}",
    ]
    return "\n".join(out)
