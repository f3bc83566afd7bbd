"""What ``opscheck preflight`` shows: phases, a progress line naming the item being checked, the verdict.

The pytest child's own output goes to ``<run>/pytest.log``; the operator sees only what this module prints:
phase lines while the target starts, the item ids as they are checked, the per-section table and every
non-passing item, and one ``VERDICT:`` line. ``--format json|junit|tap|nagios`` prints a machine-readable
verdict on stdout, and then everything human goes to stderr. Colour only on a terminal, never with
``--no-color`` or ``NO_COLOR``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from ops_checks.catalogue import BY_ID
from ops_checks.verdict import verdict as verdicts

FORMATS = ("json", "junit", "tap", "nagios")
PREFIX = "@@opscheck "
COLOURS = {verdicts.GO: "\033[1;32m", verdicts.NO_GO: "\033[1;31m", verdicts.PARTIAL: "\033[1;33m"}
RESET = "\033[0m"


class Console:
    def __init__(
        self,
        *,
        quiet: bool = False,
        verbose: bool = False,
        color: bool = True,
        fmt: str | None = None,
        human: TextIO | None = None,
    ) -> None:
        self.quiet, self.verbose, self.fmt = quiet, verbose, fmt
        self.out: TextIO = human or (sys.stderr if fmt else sys.stdout)
        self.tty = self.out.isatty()
        self.color = color and self.tty and not os.environ.get("NO_COLOR")
        self.checked = 0
        self.total = 0
        self._progress_shown = False

    def say(self, text: str) -> None:
        if not self.quiet:
            self._end_progress()
            print(text, file=self.out, flush=True)

    def child_line(self, line: str) -> None:
        """A line of the pytest child's output: only our own announcements are shown."""
        at = line.find(PREFIX)  # pytest's progress dots may precede it on the same line
        if at < 0:
            return
        kind, _, rest = line[at + len(PREFIX) :].partition(" ")
        if kind == "phase":
            if rest.startswith("checking ") and rest.split(" ")[1].isdigit():
                self.total = int(rest.split(" ")[1])
            self.say(f"… {rest}")
        elif kind == "item":
            item_id, _, status = rest.partition(" ")
            self.checked += 1
            self._progress(item_id, status)

    def _progress(self, item_id: str, status: str) -> None:
        if self.quiet:
            return
        title = BY_ID[item_id].title if item_id in BY_ID else ""
        count = f"[{self.checked:>3}/{self.total or '?'}]"
        if self.verbose:
            print(f"{count} {item_id:<12} {status:<8} {title}", file=self.out, flush=True)
        elif self.tty:
            text = f"{count} {item_id:<12} {status:<8} {title}"[:100]
            print(f"\r{text:<100}", end="", file=self.out, flush=True)
            self._progress_shown = True

    def _end_progress(self) -> None:
        if self._progress_shown:
            print(f"\r{'':<100}\r", end="", file=self.out, flush=True)
            self._progress_shown = False

    def verdict(self, result: dict[str, Any], *, run_dir: Path, html: Path | None) -> None:
        """The table, every problem, where the report is, and the one VERDICT line (last)."""
        table = verdicts.render_table(result).splitlines()
        body, last = table[:-1], table[-1]
        if not self.quiet:
            self._end_progress()
            for line in body:
                print(line, file=self.out)
            print(f"report: {run_dir}" + (f"\nhtml:   {html}" if html else ""), file=self.out)
        word = result["verdict"]
        colour = COLOURS.get(word, "") if self.color else ""
        print(
            last.replace(f"VERDICT: {word}", f"VERDICT: {colour}{word}{RESET if colour else ''}", 1),
            file=self.out,
            flush=True,
        )
        if self.fmt:
            print(machine(result, self.fmt, run_dir), file=sys.stdout, flush=True)


def machine(result: dict[str, Any], fmt: str, run_dir: Path) -> str:
    if fmt == "json":
        return json.dumps(result, indent=2)
    if fmt == "junit":
        path = run_dir / "junit.xml"
        return path.read_text(encoding="utf-8") if path.exists() else ""
    if fmt == "tap":
        return tap(result)
    if fmt == "nagios":
        return nagios(result)
    raise ValueError(fmt)


def tap(result: dict[str, Any]) -> str:
    """TAP 13, from each item's structured status: passed is ``ok``; not applicable is ``ok # SKIP``; a waived
    failure and a failed warning are ``not ok # TODO`` (known, not counted as failures); failed, error and not
    verified blockers are ``not ok``, with the status word, the reason and the cause(s) it points at."""
    items = result["items"]
    by_id = {i["id"]: i for i in items}
    lines = ["TAP version 13", f"1..{len(items)}"]
    for n, i in enumerate(items, 1):
        status, reason = i["status"], i.get("reason") or ""
        causes = verdicts.points_at(i, by_id)
        why = f"{reason} → {', '.join(causes)}" if causes else reason
        ok, directive = status == verdicts.PASSED, ""
        if status == verdicts.NOT_APPLICABLE:
            ok, directive = True, f" # SKIP not applicable: {reason}"
        elif status == verdicts.WAIVED:
            directive = f" # TODO waived: {reason}"
        elif status != verdicts.PASSED and i["severity"] != "blocker":
            directive = f" # TODO warning, {verdicts.WORDS.get(status, status)}: {why}"
        elif status != verdicts.PASSED:
            directive = f" # {verdicts.WORDS.get(status, status)}: {why}"
        line = f"{'ok' if ok else 'not ok'} {n} - {i['id']} {i['title']}{directive}"
        lines.append(" ".join(line.split()))
    for cause in result.get("causes") or []:
        lines.append(" ".join(f"# {cause['id']}: {cause['summary']} (remedy: {cause['remedy']})".split()))
    lines.append(f"# verdict {verdicts.headline(result)}")
    return "\n".join(lines)


def nagios(result: dict[str, Any]) -> str:
    """One Nagios plugin line: state, summary (the verdict, its causes), perfdata. (The exit code stays
    opscheck's: 0/1/2/3.)"""
    state = {verdicts.GO: "OK", verdicts.PARTIAL: "WARNING"}.get(result["verdict"], "CRITICAL")
    c = result["counts"]
    bad = [i["id"] for i in result["items"] if i["status"] not in verdicts.MET and i["severity"] == "blocker"]
    detail = f"; blockers not passed: {', '.join(bad[:10])}{' …' if len(bad) > 10 else ''}" if bad else ""
    causes = [x for x in result.get("causes") or [] if x.get("blocking", True)]
    why = "; ".join(f"{x['id']} {_short(x['summary'], 80)}" for x in causes[:3]) + (" …" if len(causes) > 3 else "")
    perf = " ".join(f"{k}={v}" for k, v in c.items()) + f" causes={len(causes)}"
    head = f"OPSCHECK {state} - {verdicts.headline(result)}: {c['passed']}/{c['total']} passed{detail}"
    return f"{head}{f'; {why}' if why else ''} | {perf}".replace("\n", " ")


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
