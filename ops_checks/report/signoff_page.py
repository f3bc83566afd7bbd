"""The report's first screen: a self-contained sign-off page that leads with the verdict.

``html/index.html`` is this page: ``Verdict: GO|NO-GO|PARTIAL`` in large type, then target, operator, witness,
run id, start and end, the selection, the waivers in force, the results hash, and every item with its status
and reason (waived items with their justification and approver). It links to the Allure report
(``allure.html`` beside it) for the evidence. Everything is escaped; the page loads nothing (no script, no
external reference), so it opens from ``file://`` and stays offline.
"""

from __future__ import annotations

from html import escape
from typing import Any

COLOURS = {"GO": "#1b7f3b", "NO-GO": "#b3261e", "PARTIAL": "#9a6700"}
STATUS_COLOURS = {"passed": "#1b7f3b", "failed": "#b3261e", "error": "#b3261e", "not_verified": "#9a6700",
                  "not_applicable": "#555555",
                  "waived": "#5b5fc7"}
STATUS_WORDS = {"not_verified": "not verified", "error": "error (could not check)", "not_applicable": "not applicable"}


def _row(label: str, value: object) -> str:
    text = "—" if value in (None, "", [], {}) else str(value)
    return f"<tr><th>{escape(label)}</th><td>{escape(text)}</td></tr>"


def _selection_text(sel: dict[str, Any] | None) -> str:
    if not sel or sel.get("complete", True):
        extra = f", cadence {', '.join(sel['cadence'])}" if sel and sel.get("cadence") else ""
        return f"the whole daily preflight{extra}"
    parts = [f"features {sel['features']}" if sel.get("features") else "",
             f"markers {sel['markers']}" if sel.get("markers") else ""]
    left = sel.get("left_out") or []
    return f"{'; '.join(p for p in parts if p) or 'a selection'}: {len(left)} item(s) of the preflight left out"


def _scope_text(scope: dict[str, Any] | None) -> str:
    """The operator's declared scope (OPSCHECK_SCOPE): what it declared and which items it made not applicable."""
    if not scope or not scope.get("declared"):
        return "nothing declared out of scope: every item applies"
    declared = "; ".join(f"{k}={','.join(v)}" for k, v in scope["declared"].items())
    na = scope.get("not_applicable") or []
    return f"{scope.get('source') or 'declared'}: {declared}" + (f" (not applicable: {', '.join(na)})" if na else "")


def render(verdict: dict[str, Any], *, allure_href: str | None = "allure.html") -> str:
    word = str(verdict.get("verdict", "NO-GO"))
    colour = COLOURS.get(word, "#b3261e")
    counts = verdict.get("counts", {})
    waivers = verdict.get("waivers") or []
    head = "".join([
        _row("Target", verdict.get("target")),
        _row("Operator", verdict.get("operator")),
        _row("Witness", verdict.get("witness")),
        _row("Run id", verdict.get("run_id")),
        _row("Started (UTC)", verdict.get("started_at")),
        _row("Finished (UTC)", verdict.get("finished_at")),
        _row("Selection", _selection_text(verdict.get("selection"))),
        _row("Waivers in force", "; ".join(f"{w['item']} ({w['approver']}, until {w['expires']})" for w in waivers)
             or "none"),
        _row("Declared scope", _scope_text(verdict.get("scope"))),
        _row("Results SHA-256", verdict.get("results_sha256")),
        _row("Counts", ", ".join(f"{STATUS_WORDS.get(k, k)} {v}" for k, v in counts.items())),
    ])
    problems = [i for i in verdict.get("items", []) if i.get("status") != "passed"]
    rows = []
    for item in problems + [i for i in verdict.get("items", []) if i.get("status") == "passed"]:
        status = str(item.get("status"))
        shown = STATUS_WORDS.get(status, status)
        rows.append(
            f"<tr><td class=id>{escape(str(item.get('id')))}</td><td>{escape(str(item.get('title', '')))}</td>"
            f"<td>{escape(str(item.get('severity', '')))}</td>"
            f"<td style=\"color:{STATUS_COLOURS.get(status, '#333')};font-weight:600\">{escape(shown)}</td>"
            f"<td>{escape(str(item.get('reason') or ''))}</td></tr>"
        )
    notes = "".join(f"<li>{escape(str(w))}</li>" for w in verdict.get("warnings") or [])
    link = (f'<p><a href="{escape(allure_href)}">Evidence: the Allure report of this run</a> '
            "(SQL and rows, HTTP exchanges, measurements per item)</p>" if allure_href else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Verdict: {escape(word)} — ops_checks preflight ({escape(str(verdict.get('target', '')))})</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#1f1f1f}}
h1{{font-size:3rem;margin:0 0 1rem;color:{colour}}}
table{{border-collapse:collapse}}
th,td{{text-align:left;padding:.25rem .75rem;border-bottom:1px solid #ddd;vertical-align:top}}
table.head th{{width:12rem;color:#555}} td.id{{font-family:monospace;white-space:nowrap}}
</style></head>
<body>
<h1 id="verdict">Verdict: {escape(word)}</h1>
<table class="head">{head}</table>
{link}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Items{f" — {len(problems)} not passed, listed first" if problems else ""}</h2>
<table class="items"><tr><th>Item</th><th>Title</th><th>Severity</th><th>Status</th><th>Reason</th></tr>
{''.join(rows)}
</table>
</body></html>
"""
