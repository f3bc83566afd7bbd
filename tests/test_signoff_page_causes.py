"""The sign-off page (html/index.html) says why a run is NO-GO: "Why NO-GO" above the item table, each cause with its
summary, its remedy (the SQL or command in <code>) and its items; each item row shows its status in words and points
at the cause that explains it instead of repeating the cause's error."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from ops_checks.core.result import Cause
from ops_checks.report import signoff_page
from ops_checks.verdict import verdict as verdicts

GRANT = Cause(
    "grant",
    "policy_decision_audit for app_trading",
    "the bot's role app_trading may not SELECT policy_decision_audit",
    'GRANT SELECT ON policy_decision_audit TO "app_trading";',
)
DENIED = "permission denied for table policy_decision_audit"


def a_verdict() -> dict[str, Any]:
    now = datetime.now(UTC)
    return verdicts.build(
        [
            verdicts.outcome("1.1.1", "passed"),
            verdicts.outcome("1.1.4", "failed", DENIED, cause=GRANT),
            verdicts.outcome("1.6.3", "not_verified", DENIED, cause=GRANT),
            verdicts.outcome("3.1.2", "failed", "§1 not met", blocked_by=("1.1.4", "1.4.3")),
            verdicts.outcome("1.4.3", "failed", "no dashboards found"),
            verdicts.outcome("8.6.1", "error", "the check raised ValueError: bad time"),
            verdicts.outcome("1.5.1", "waived", "waived until 2099-01-01 by X: migrating"),
            verdicts.outcome("sop.1.1", "not_applicable", "CDP declared out of scope"),
        ],
        target="sandbox",
        started_at=now,
        finished_at=now,
        operator="A",
        witness="B",
    ) | {"run_id": "run-1"}


class Text(HTMLParser):
    """The page's text by element: the "Why" section's list items and each item row's cells."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.causes: list[str] = []
        self.rows: list[list[str]] = []
        self.headings: list[str] = []
        self.codes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append((tag, dict(attrs)))
        if tag == "li":
            self.causes.append("")
        elif tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self.rows[-1].append("")
        elif tag == "h2":
            self.headings.append("")
        elif tag == "code":
            self.codes.append("")

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        tags = [t for t, _ in self.stack]
        if "li" in tags:
            self.causes[-1] += data
        if "td" in tags and self.rows:
            self.rows[-1][-1] += data
        if "h2" in tags:
            self.headings[-1] += data
        if "code" in tags:
            self.codes[-1] += data


def parsed(page: str) -> Text:
    text = Text()
    text.feed(page)
    return text


def test_why_no_go_comes_before_the_items_with_summary_remedy_and_items() -> None:
    verdict = a_verdict()
    page = signoff_page.render(verdict)
    text = parsed(page)
    assert text.headings[-2:] == ["Why NO-GO — 3 causes, 5 items", "Items — 7 not passed, listed first"]
    assert page.index('id="why"') < page.index('class="items"')
    c1 = next(c for c in verdict["causes"] if c["kind"] == "grant")
    first = text.causes[0]
    assert first.startswith(f"{c1['id']} the bot's role app_trading may not SELECT policy_decision_audit")
    assert 'Remedy: GRANT SELECT ON policy_decision_audit TO "app_trading";' in first
    assert "Items: 1.1.4 failed; 1.6.3 not verified; resting on them: 3.1.2" in first
    assert 'GRANT SELECT ON policy_decision_audit TO "app_trading";' in text.codes  # the SQL is code
    # an item-kind cause's default remedy: the prose stays prose, the command is code
    c2 = next(c for c in verdict["causes"] if c["roots"] == ["1.4.3"])
    assert "opscheck preflight -m rb_1_4_3" in text.codes
    assert (
        f"also holds up 3.1.2 (under {c1['id']})" in text.causes[[c["id"] for c in verdict["causes"]].index(c2["id"])]
    )
    assert re.search(r'<li id="C1">', page) and '<a href="#C1">C1</a>' in page


def test_item_rows_show_status_words_and_point_at_their_cause() -> None:
    verdict = a_verdict()
    rows = {r[0]: r for r in parsed(signoff_page.render(verdict)).rows if r}
    c1 = next(c for c in verdict["causes"] if c["kind"] == "grant")["id"]
    assert rows["1.1.1"][3] == "passed"
    assert rows["1.1.4"][3] == "failed" and rows["1.1.4"][4] == f"{DENIED} → {c1}"
    assert rows["1.6.3"][3] == "not verified" and rows["1.6.3"][4] == f"→ {c1}"  # the same error, said once
    assert rows["3.1.2"][4].startswith("→ C") and rows["3.1.2"][4].endswith("(rests on 1.1.4, 1.4.3)")
    assert rows["8.6.1"][3] == "error (could not check)"
    assert rows["1.5.1"][3] == "waived" and rows["1.5.1"][4] == "waived until 2099-01-01 by X: migrating"
    assert rows["sop.1.1"][3] == "not applicable" and rows["sop.1.1"][4] == "CDP declared out of scope"


def test_a_go_page_has_no_why_section_and_nothing_is_unescaped() -> None:
    now = datetime.now(UTC)
    go = verdicts.build(
        [verdicts.outcome("1.1.1", "passed")],
        target="sandbox",
        started_at=now,
        finished_at=now,
        operator=None,
        witness=None,
    )
    assert 'id="why"' not in signoff_page.render(go)
    evil = a_verdict()
    evil["causes"][0]["summary"] = "<script>alert(1)</script>"
    evil["causes"][0]["remedy"] = "run: opscheck <b>x</b>"
    page = signoff_page.render(evil)
    assert "<script>" not in page and "<b>x</b>" not in page and "opscheck &lt;b&gt;x&lt;/b&gt;" in page


def test_remedies_mark_their_command_as_code() -> None:
    remedy = signoff_page._remedy  # noqa: SLF001 - the rendering rule itself
    assert remedy('GRANT SELECT ON t TO "r";') == "<code>GRANT SELECT ON t TO &quot;r&quot;;</code>"
    assert (
        remedy("set it in the env file: MAX_RISK_ZAR=5000") == "set it in the env file: <code>MAX_RISK_ZAR=5000</code>"
    )
    assert remedy("make item 1.2.1 hold, then re-run: opscheck preflight") == (
        "make item 1.2.1 hold, then re-run: <code>opscheck preflight</code>"
    )
    assert remedy("run `opscheck init` as the owner") == "run <code>opscheck init</code> as the owner"
    assert remedy("apply the bot's migration that creates x, then re-run") == (
        "apply the bot&#x27;s migration that creates x, then re-run"
    )
