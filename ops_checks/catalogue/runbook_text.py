"""Quote the runbook's own words for an item (its checklist row, or its section's first lines) for the report.

The runbooks are the operator's documents and are read from a path (``--runbook`` or ``$OPSCHECK_RUNBOOK_DIR``),
never copied into the project, so the report quotes whatever revision the operator points at. Without them the
report quotes the catalogue's titles, and the preflight says so on one line (``missing_note``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from ops_checks.catalogue import LIVE_RUNBOOK, Item

FILES = {LIVE_RUNBOOK: "live-trading-runbook.md", "Incident Response SOP": "incident-response-sop.md"}
MAX_CHARS = 600
ENV = "OPSCHECK_RUNBOOK_DIR"


def checkout_root(cwd: Path | None = None) -> Path:
    """The repository checkout the command runs in: the nearest directory at or above ``cwd`` holding ``.git``,
    else ``cwd`` itself."""
    here = (cwd or Path.cwd()).resolve()
    return next((d for d in (here, *here.parents) if (d / ".git").exists()), here)


def default_dir(cwd: Path | None = None) -> Path:
    """``../shared/runbooks`` beside the repository checkout the command runs in (``checkout_root``)."""
    return checkout_root(cwd).parent / "shared" / "runbooks"


def resolve_dir(
    option: str | Path | None = None, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Path:
    """``--runbook DIR``, else ``$OPSCHECK_RUNBOOK_DIR``, else ``default_dir``; absolute."""
    env = os.environ if env is None else env
    chosen = Path(option) if option else Path(env[ENV]) if env.get(ENV) else default_dir(cwd)
    return chosen.expanduser().resolve()


def missing_note(runbook_dir: Path) -> str | None:
    """One line when the runbook directory is missing (the report then quotes the catalogue's titles), else None."""
    if runbook_dir.is_dir():
        return None
    return (
        f"note: runbook directory not found ({runbook_dir}; --runbook DIR or {ENV}): "
        "the report quotes the catalogue's titles"
    )


@lru_cache(maxsize=4)
def _lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def _section(lines: tuple[str, ...], heading: re.Pattern[str]) -> list[str]:
    for n, line in enumerate(lines):
        if heading.match(line):
            level = len(line) - len(line.lstrip("#"))
            body = []
            for nxt in lines[n + 1 :]:
                if nxt.startswith("#") and len(nxt) - len(nxt.lstrip("#")) <= level:
                    break
                body.append(nxt)
            return [line, *body]
    return []


def _table_rows(body: list[str]) -> list[str]:
    rows = [ln for ln in body if ln.startswith("|")]
    return [r for r in rows[2:]] if len(rows) > 2 else []


def _first_text(body: list[str]) -> str:
    out, in_code = [], False
    for ln in body[1:]:
        if ln.startswith("```"):
            in_code = not in_code
            continue
        if not in_code and ln.strip():
            out.append(ln.strip())
        if sum(len(x) for x in out) > MAX_CHARS:
            break
    return " ".join(out)[:MAX_CHARS]


_ANCHOR_LINK = re.compile(r"\[([^\]]+)\]\(#[^)]*\)")


def quote(item: Item, runbook_dir: Path) -> str:
    """The runbook row an item implements, as plain text: in-document links (``[Section 8](#8-…)``) point into
    the runbook file, not the report, so only their text is kept."""
    return _ANCHOR_LINK.sub(r"\1 of the runbook", _quote(item, runbook_dir))


def _quote(item: Item, runbook_dir: Path) -> str:
    path = runbook_dir / FILES.get(item.runbook, "")
    where = f"{item.runbook}, §{item.section}"
    if not path.is_file():
        return f"{where} — {item.id} {item.title} (the catalogue's title: runbook not found at {path})"
    lines = _lines(path)
    numbered = re.compile(rf"^\|\s*{re.escape(item.id)}\s*\|")
    for ln in lines:
        if numbered.match(ln):
            return f"{where} — checklist row: {ln.strip()}"
    parts = item.id.split(".")
    if parts[0] == "sop":
        if parts[1] in ("daily", "weekly", "monthly"):
            body = _section(lines, re.compile(rf"^#+\s+{parts[1].capitalize()}\b"))
            boxes = [ln.strip() for ln in body if ln.strip().startswith("- [")]
            idx = int(parts[2]) - 1 if len(parts) > 2 and parts[2].isdigit() else -1
            if 0 <= idx < len(boxes):
                return f"{where} — prevention checklist: {boxes[idx]}"
        body = _section(lines, re.compile(rf"^##\s+{re.escape(parts[1])}\.\s"))
        return f"{where} — {body[0].lstrip('# ')}: {_first_text(body)}" if body else f"{where}"
    section, row = ".".join(parts[:-1]), parts[-1]
    body = _section(lines, re.compile(rf"^#+\s+{re.escape(section)}\s"))
    if not body:
        return where
    rows = _table_rows(body)
    if row.isdigit() and 0 < int(row) <= len(rows):
        return f"{where} — row {row}: {rows[int(row) - 1].strip()}"
    return f"{where} — {body[0].lstrip('# ')}: {_first_text(body)}"
