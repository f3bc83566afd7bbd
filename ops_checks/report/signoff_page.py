"""The report's first screen: a self-contained sign-off page that leads with the verdict.

``html/index.html`` is this page: ``Verdict: GO|NO-GO|PARTIAL`` in large type, then target, operator, witness,
run id, start and end, the selection, the waivers in force, the results hash; then "Why NO-GO": each cause with
its summary, its remedy (the SQL or command in ``<code>``) and the items it explains; then every item with its
status in words and its reason, or a pointer to the cause that explains it (waived items with their justification
and approver). It links to the Allure report
(``allure.html`` beside it) for the evidence. Everything is escaped; the page loads nothing (no script, no
external reference), so it opens from ``file://`` and stays offline.

Below the head, the seal (``verdict.seal``): the run's hash and the sign-off — ledger row, head hash, whether the MAC
key was set — or "not signed" and why, on the page's one seal line (``seal_line``), which ``opscheck evidence
verify`` renders again from verdict.json. After the items: the system checked (bot URL, database host, name and
role, the env file's SHA-256, the suite's version, the runbooks quoted), and each item's runbook row, quoted.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from ops_checks.verdict import verdict as verdicts
from ops_checks.verdict.seal import PAGE_SEAL_PREFIX

COLOURS = {"GO": "#1b7f3b", "NO-GO": "#b3261e", "PARTIAL": "#9a6700"}
STATUS_COLOURS = {
    "passed": "#1b7f3b",
    "failed": "#b3261e",
    "error": "#b3261e",
    "not_verified": "#9a6700",
    "not_applicable": "#555555",
    "waived": "#5b5fc7",
}
STATUS_WORDS = {**verdicts.WORDS, "error": "error (could not check)"}
# where a remedy's command starts: SQL, an env line, a shell command (the prose before it stays prose)
_COMMAND = re.compile(
    r"(?:GRANT|REVOKE|ALTER|CREATE|UPDATE|INSERT|DELETE|SELECT|SET|opscheck|docker|psql|pg_\w+|export|systemctl|"
    r"curl|sudo|python3?|pip)\b|[A-Z][A-Z0-9_]*="
)


def _row(label: str, value: object) -> str:
    text = "—" if value in (None, "", [], {}) else str(value)
    return f"<tr><th>{escape(label)}</th><td>{escape(text)}</td></tr>"


def _selection_text(sel: dict[str, Any] | None) -> str:
    if not sel or sel.get("complete", True):
        extra = f", cadence {', '.join(sel['cadence'])}" if sel and sel.get("cadence") else ""
        return f"the whole daily preflight{extra}"
    parts = [
        f"features {sel['features']}" if sel.get("features") else "",
        f"markers {sel['markers']}" if sel.get("markers") else "",
    ]
    left = sel.get("left_out") or []
    return f"{'; '.join(p for p in parts if p) or 'a selection'}: {len(left)} item(s) of the preflight left out"


def _seal_row(label: str, value: object) -> str:
    """A row of the seal: its own markup, so the seal renders the same whatever the rest of the page becomes."""
    text = "—" if value in (None, "") else str(value)
    return f"<tr><th>{escape(label)}</th><td>{escape(text)}</td></tr>"


MAC_SET = "set: the row carries a MAC that only the operators' key makes"
MAC_UNSET = "not set: the row carries no MAC (a ledger rewritten by whoever can write it would go unnoticed)"


def seal_line(verdict: dict[str, Any]) -> str:
    """The page's seal: the run's hash and the sign-off (or "not signed" and why), on one line. Rendered from
    verdict.json's ``results_sha256``, ``signoff`` and ``run_id`` alone, so a verifier renders it again."""
    claimed = verdict.get("signoff")
    signoff: dict[str, Any] = claimed if isinstance(claimed, dict) else {}
    run_id = str(verdict.get("run_id") or "RUN-ID")
    rows = [_seal_row("Results SHA-256", verdict.get("results_sha256") or "not computed")]
    if signoff.get("signed"):
        rows += [
            _seal_row(
                "Sign-off",
                f"ledger row {signoff.get('ledger_row')} of opscheck.ops_signoffs, signed "
                f"{signoff.get('signed_at')} by {verdict.get('operator')}, witnessed by "
                f"{verdict.get('witness')}",
            ),
            _seal_row("Head hash", signoff.get("row_hash")),
            _seal_row("MAC key (OPSCHECK_SIGNOFF_KEY)", MAC_SET if signoff.get("mac_key_set") else MAC_UNSET),
        ]
    else:
        rows.append(_seal_row("Sign-off", f"not signed: {signoff.get('why') or 'no sign-off was recorded'}"))
    rows.append(
        _seal_row(
            "Check it",
            f"opscheck evidence verify <reports>/{run_id} [--env-file .env] (from any "
            "directory; --env-file also compares the ledger row)",
        )
    )
    line = f'{PAGE_SEAL_PREFIX}<h2>Seal and sign-off</h2><table class="head">{"".join(rows)}</table></section>'
    return line.replace("\n", " ").replace("\r", " ")


def identity_section(verdict: dict[str, Any]) -> str:
    """Which system was checked: for live the bot URL, database host, name and role, the env file's SHA-256; the
    suite's version and the runbooks quoted, always."""
    ident = verdict.get("target_identity")
    if not isinstance(ident, dict):
        return ""
    if ident.get("kind") == "live":
        rows = [
            _row("Bot URL", ident.get("bot_url")),
            _row("Database host", f"{ident.get('db_host')}:{ident.get('db_port')}"),
            _row("Database name", ident.get("db_name")),
            _row("Database role", ident.get("db_role")),
            _row("Env file", ident.get("env_file") or "none (settings from the environment)"),
            _row("Env file SHA-256", ident.get("env_sha256")),
        ]
    else:
        rows = [_row("System", ident.get("system"))]
    runbooks = ident.get("runbooks") or {}
    rows += [
        _row("Suite", f"ops_checks {ident.get('suite_version')}"),
        _row(
            "Runbooks quoted",
            f"{ident.get('runbook_dir')}: "
            + (
                "; ".join(f"{name} SHA-256 {digest}" for name, digest in sorted(runbooks.items()))
                or "not found (the catalogue's titles are quoted)"
            ),
        ),
    ]
    return f'<h2>System checked</h2><table class="head">{"".join(rows)}</table>'


def runbook_section(verdict: dict[str, Any], quotes: dict[str, str] | None) -> str:
    """Each item with the runbook row it implements, in the runbook's own words."""
    if not quotes:
        return ""
    rows = "".join(
        f"<tr><td class=id>{escape(str(i.get('id')))}</td><td>{escape(quotes[str(i.get('id'))])}</td></tr>"
        for i in verdict.get("items", [])
        if quotes.get(str(i.get("id")))
    )
    return (
        "<h2>What each item implements: the runbook's own words</h2>"
        f'<table class="items"><tr><th>Item</th><th>Runbook row</th></tr>{rows}</table>'
    )


def _remedy(text: str) -> str:
    """A remedy as HTML: `quoted` parts, the command after the first ": " that starts one, or a remedy that is a
    command as a whole, in ``<code>``; the rest as prose."""
    if "`" in text:
        parts = text.split("`")
        return "".join(f"<code>{escape(p)}</code>" if n % 2 else escape(p) for n, p in enumerate(parts))
    if _COMMAND.match(text):
        return f"<code>{escape(text)}</code>"
    for m in re.finditer(r": ", text):
        if _COMMAND.match(text, m.end()):
            return f"{escape(text[: m.end()])}<code>{escape(text[m.end() :])}</code>"
    return escape(text)


def _causes(verdict: dict[str, Any], items: dict[str, dict[str, Any]]) -> str:
    """The "Why NO-GO" section: each cause with its summary, remedy and items (none without causes)."""
    found = verdict.get("causes") or []
    if not found:
        return ""
    blocking = any(c.get("blocking", True) for c in found)
    why = verdicts.headline(verdict).partition(" — ")[2]
    title = f"Why {verdict.get('verdict')} — {why}" if blocking and why else "Warnings"
    rows = []
    for c in found:
        cid = escape(str(c["id"]))
        warning = "" if c.get("blocking", True) else " <span class=muted>(warnings only)</span>"
        rows.append(
            f'<li id="{cid}"><p class=summary><span class=cid>{cid}</span> {escape(str(c.get("summary", "")))}'
            f"{warning}</p>"
            f"<p><span class=muted>Remedy:</span> {_remedy(str(c.get('remedy', '')))}</p>"
            f"<p><span class=muted>Items:</span> {escape(verdicts.cause_items_text(c, items))}</p></li>"
        )
    return f'<h2 id="why">{escape(title)}</h2>\n<ol class="causes">{"".join(rows)}</ol>'


def _reason_cell(item: dict[str, Any], items: dict[str, dict[str, Any]], shown: list[str]) -> str:
    """The item's reason, or (for an item a cause explains whose reason is already said, or that rests on other
    items) a pointer to its cause(s): each distinct reason appears once on the page."""
    reason = str(item.get("reason") or "")
    pointers = verdicts.points_at(item, items)
    if not pointers:
        return escape(reason)
    arrow = ", ".join(f'<a href="#{escape(c)}">{escape(c)}</a>' for c in pointers)
    resting = verdicts.open_blockers(item, items)
    if reason and not resting and not any(reason in text for text in shown):
        shown.append(reason)
        return f"{escape(reason)} → {arrow}"
    rests = f" <span class=muted>(rests on {escape(verdicts.compact_ids(resting))})</span>" if resting else ""
    return f'<span title="{escape(reason)}">→ {arrow}</span>{rests}'


def _scope_text(scope: dict[str, Any] | None) -> str:
    """The operator's declared scope (OPSCHECK_SCOPE): what it declared and which items it made not applicable."""
    if not scope or not scope.get("declared"):
        return "nothing declared out of scope: every item applies"
    declared = "; ".join(f"{k}={','.join(v)}" for k, v in scope["declared"].items())
    na = scope.get("not_applicable") or []
    return f"{scope.get('source') or 'declared'}: {declared}" + (f" (not applicable: {', '.join(na)})" if na else "")


def render(
    verdict: dict[str, Any], *, allure_href: str | None = "allure.html", quotes: dict[str, str] | None = None
) -> str:
    word = str(verdict.get("verdict", "NO-GO"))
    colour = COLOURS.get(word, "#b3261e")
    counts = verdict.get("counts", {})
    waivers = verdict.get("waivers") or []
    head = "".join(
        [
            _row("Target", verdict.get("target")),
            _row("Operator", verdict.get("operator")),
            _row("Witness", verdict.get("witness")),
            _row("Run id", verdict.get("run_id")),
            _row("Started (UTC)", verdict.get("started_at")),
            _row("Finished (UTC)", verdict.get("finished_at")),
            _row("Selection", _selection_text(verdict.get("selection"))),
            _row(
                "Waivers in force",
                "; ".join(f"{w['item']} ({w['approver']}, until {w['expires']})" for w in waivers) or "none",
            ),
            _row("Declared scope", _scope_text(verdict.get("scope"))),
            _row("Counts", ", ".join(f"{STATUS_WORDS.get(k, k)} {v}" for k, v in counts.items())),
        ]
    )
    problems = [i for i in verdict.get("items", []) if i.get("status") != "passed"]
    by_id = {str(i.get("id")): i for i in verdict.get("items", [])}
    said = [str(c.get("summary", "")) for c in verdict.get("causes") or []]  # each distinct reason once
    rows = []
    for item in problems + [i for i in verdict.get("items", []) if i.get("status") == "passed"]:
        status = str(item.get("status"))
        shown = STATUS_WORDS.get(status, status)
        rows.append(
            f"<tr><td class=id>{escape(str(item.get('id')))}</td><td>{escape(str(item.get('title', '')))}</td>"
            f"<td>{escape(str(item.get('severity', '')))}</td>"
            f'<td style="color:{STATUS_COLOURS.get(status, "#333")};font-weight:600;white-space:nowrap">'
            f"{escape(shown)}</td>"
            f"<td>{_reason_cell(item, by_id, said)}</td></tr>"
        )
    notes = "".join(f"<li>{escape(str(w))}</li>" for w in verdict.get("warnings") or [])
    link = (
        f'<p><a href="{escape(allure_href)}">Evidence: the Allure report of this run</a> '
        "(SQL and rows, HTTP exchanges, measurements per item)</p>"
        if allure_href
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Verdict: {escape(word)} — ops_checks preflight ({escape(str(verdict.get("target", "")))})</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#1f1f1f}}
h1{{font-size:3rem;margin:0 0 1rem;color:{colour}}}
table{{border-collapse:collapse}}
th,td{{text-align:left;padding:.25rem .75rem;border-bottom:1px solid #ddd;vertical-align:top}}
table.head th{{width:12rem;color:#555}} td.id{{font-family:monospace;white-space:nowrap}}
ol.causes{{list-style:none;padding:0;max-width:70rem}}
ol.causes li{{border-left:4px solid {colour};padding:.25rem .75rem;margin:0 0 .75rem}}
ol.causes p{{margin:.2rem 0}} p.summary{{font-weight:600}}
.cid{{font-family:monospace;background:{colour};color:#fff;padding:0 .35rem;border-radius:3px;margin-right:.3rem}}
.muted{{color:#555}} code{{background:#f3f3f3;padding:.05rem .3rem;font-size:.95em;white-space:pre-wrap}}
</style></head>
<body>
<h1 id="verdict">Verdict: {escape(word)}</h1>
<table class="head">{head}</table>
{seal_line(verdict)}
{link}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
{_causes(verdict, by_id)}
<h2>Items{f" — {len(problems)} not passed, listed first" if problems else ""}</h2>
<table class="items"><tr><th>Item</th><th>Title</th><th>Severity</th><th>Status</th><th>Reason</th></tr>
{"".join(rows)}
</table>
{identity_section(verdict)}
{runbook_section(verdict, quotes)}
</body></html>
"""
