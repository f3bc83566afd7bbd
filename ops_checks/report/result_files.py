"""Make the third-party result files tell what the verdict tells, from its structured status.

pytest, allure-pytest-bdd and the Cucumber writer know only pass/fail/skip, and what pytest recorded is not the
item's outcome (a waived failure is red; a "not verified" Given shows as a passed Cucumber step). Before the
results are hashed, these rewrite each file from the verdict's items, one mapping for every file:

* passed: JUnit nothing, Allure ``passed``, Cucumber ``passed``;
* failed: JUnit ``<failure type="failed">``, Allure ``failed``, Cucumber ``failed``; message ``FAILED: …``;
* error: JUnit ``<error type="error">`` (the exception's trace kept), Allure ``broken``, Cucumber ``failed``;
  message ``ERROR: …``;
* not_verified, not_applicable, waived: JUnit ``<skipped type="<status>">``, Allure ``skipped``, Cucumber
  ``skipped``; message ``NOT VERIFIED: …``, ``NOT APPLICABLE: …``, ``WAIVED: …``.

The message is a rendering of the item's status and reason (``message``), followed by the cause it points at and
its remedy (``explanation``); no code of ours ever reads it back. Every Allure result also gets a label
``outcome`` = its status and, for an item a cause explains, a label ``cause`` = the cause's id; Cucumber scenarios
and Allure results get a tag naming a status other than passed; JUnit test cases get the properties ``outcome``
and ``cause``. Each JUnit test case is named ``<item id> <title>``, and Allure step parameters keep only the steps'
literal arguments (never a fixture's or a result's repr). ``rewrite_all`` also writes the Allure overview
(categories per status and per cause, the verdict in the report's name and its environment): ``report.html``.
"""

from __future__ import annotations

import ast
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ops_checks.catalogue import id_for_tag
from ops_checks.report import html as report
from ops_checks.verdict import verdict as verdicts

ALLURE_STATUS = {
    verdicts.PASSED: "passed",
    verdicts.FAILED: "failed",
    verdicts.ERROR: "broken",
    verdicts.NOT_VERIFIED: "skipped",
    verdicts.NOT_APPLICABLE: "skipped",
    verdicts.WAIVED: "skipped",
}
JUNIT_ELEMENT = {
    verdicts.FAILED: "failure",
    verdicts.ERROR: "error",
    verdicts.NOT_VERIFIED: "skipped",
    verdicts.NOT_APPLICABLE: "skipped",
    verdicts.WAIVED: "skipped",
}
CUCUMBER_STATUS = {
    verdicts.PASSED: "passed",
    verdicts.FAILED: "failed",
    verdicts.ERROR: "failed",
    verdicts.NOT_VERIFIED: "skipped",
    verdicts.NOT_APPLICABLE: "skipped",
    verdicts.WAIVED: "skipped",
}
OUTCOME_LABEL, CAUSE_LABEL = "outcome", "cause"


class Index:
    """A verdict's items and causes by id, for the rewriters."""

    def __init__(self, verdict: Mapping[str, Any]) -> None:
        self.verdict = verdict
        self.items: dict[str, dict[str, Any]] = {str(i["id"]): dict(i) for i in verdict.get("items") or []}
        self.causes: dict[str, dict[str, Any]] = {str(c["id"]): dict(c) for c in verdict.get("causes") or []}

    def get(self, item_id: str) -> dict[str, Any] | None:
        return self.items.get(item_id)

    def points_at(self, item: Mapping[str, Any]) -> list[str]:
        return verdicts.points_at(dict(item), self.items)


def message(item: Mapping[str, Any]) -> str:
    """``NOT VERIFIED: the database is unreachable``: the item's status word and its reason, on one line."""
    label = verdicts.WORDS.get(str(item.get("status")), str(item.get("status", ""))).upper()
    reason = " ".join(str(item.get("reason") or "").split())
    return f"{label}: {reason}" if reason else label


def explanation(item: Mapping[str, Any], index: Index) -> str:
    """The causes an item points at, each with its remedy, and the items it rests on: ``→ C1: … / remedy: …``."""
    lines = []
    for cause_id in index.points_at(item):
        cause = index.causes.get(cause_id)
        if cause is not None:
            lines += [f"→ {cause_id}: {cause.get('summary', '')}", f"   remedy: {cause.get('remedy', '')}"]
    resting = verdicts.open_blockers(dict(item), index.items)
    if resting:
        lines.append(f"rests on {verdicts.compact_ids(resting)}")
    return "\n".join(lines)


def full_message(item: Mapping[str, Any], index: Index) -> str:
    why = explanation(item, index)
    return message(item) + (f"\n\n{why}" if why else "")


# --------------------------------------------------------------------------- JUnit


def _set_property(case: ET.Element, name: str, value: str | None) -> None:
    props = case.find("properties")
    if props is not None:
        for old in list(props):
            if old.get("name") == name:
                props.remove(old)
    if value is None:
        return
    if props is None:
        props = ET.Element("properties")
        case.insert(0, props)
    ET.SubElement(props, "property", {"name": name, "value": value})


def rewrite_junit(path: Path, index: Index) -> None:
    tree = ET.parse(path)  # noqa: S314 - our own pytest's output
    for suite in tree.getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            prop = case.find("properties/property[@name='runbook_item']")
            item = index.get(prop.get("value", "")) if prop is not None else None
            if item is None:
                continue
            status = str(item.get("status"))
            case.set("name", f"{item['id']} {item.get('title', '')}".strip())
            _set_property(case, OUTCOME_LABEL, status)
            _set_property(case, CAUSE_LABEL, item.get("cause_id") or None)
            recorded = [c for c in case if c.tag in ("failure", "error", "skipped")]
            trace = next((c.text for c in recorded if c.tag in ("failure", "error") and c.text), "")
            for child in recorded:
                case.remove(child)
            element = JUNIT_ELEMENT.get(status)
            if element is None:
                continue
            node = ET.SubElement(case, element, {"type": status, "message": message(item)})
            body = explanation(item, index)
            if status == verdicts.ERROR and trace:  # the exception that stopped the check: for whoever fixes it
                body = f"{body}\n\n{trace}" if body else trace
            if body:
                node.text = body
        cases = list(suite.iter("testcase"))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    tree.write(path, encoding="utf-8", xml_declaration=True)


# --------------------------------------------------------------------------- Allure


def _readable(params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Step parameters as the step's own arguments: plain strings and numbers, never an object's repr.

    allure-pytest-bdd records the ``repr`` of every argument of a step function, fixtures included
    (``<FixtureRequest …>``, ``Target(…)``, a whole ``CheckResult(…)``); only literal values say anything."""
    out = []
    for param in params:
        try:
            value = ast.literal_eval(str(param.get("value", "")))
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            out.append({"name": param.get("name", ""), "value": str(value)})
    return out


def _tidy_steps(node: dict[str, Any]) -> None:
    if "parameters" in node:
        node["parameters"] = _readable(node.get("parameters") or [])
    for step in node.get("steps", []) or []:
        _tidy_steps(step)


def _allure_item(data: Mapping[str, Any], index: Index) -> dict[str, Any] | None:
    story = next((lbl.get("value", "") for lbl in data.get("labels", []) if lbl.get("name") == "story"), "")
    return index.get(str(story).split(" ")[0]) if story else None


def rewrite_allure(results_dir: Path, verdict: Mapping[str, Any] | Index) -> None:
    index = verdict if isinstance(verdict, Index) else Index(verdict)
    for path in results_dir.glob("*-result.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue  # not whole: the evidence check names it
        _tidy_steps(data)
        item = _allure_item(data, index)
        if item is not None:
            status = str(item.get("status"))
            labels = [
                lbl
                for lbl in data.get("labels", [])
                if lbl.get("name") not in (OUTCOME_LABEL, CAUSE_LABEL)
                and not (lbl.get("name") == "tag" and lbl.get("value") in verdicts.STATUSES)
            ]
            labels.append({"name": OUTCOME_LABEL, "value": status})
            if item.get("cause_id"):
                labels.append({"name": CAUSE_LABEL, "value": str(item["cause_id"])})
            if status != verdicts.PASSED:
                labels.append({"name": "tag", "value": status})
            data["labels"] = labels
            data["status"] = ALLURE_STATUS.get(status, "unknown")
            if status == verdicts.PASSED:
                data.pop("statusDetails", None)
            else:
                old = data.get("statusDetails") or {}
                trace = str(old.get("trace") or "") if status == verdicts.ERROR else ""
                data["statusDetails"] = {"message": full_message(item, index), "trace": trace}
        path.write_text(json.dumps(data), encoding="utf-8")


# --------------------------------------------------------------------------- Cucumber


def rewrite_cucumber(path: Path, index: Index) -> None:
    features = json.loads(path.read_text(encoding="utf-8"))
    for feature in features if isinstance(features, list) else []:
        for scenario in feature.get("elements", []) or []:
            ids = [id_for_tag(t.get("name", "")) for t in scenario.get("tags", [])]
            item = next((index.get(i) for i in ids if i and index.get(i) is not None), None)
            if item is None:
                continue
            status = str(item.get("status"))
            tags = [t for t in scenario.get("tags", []) if t.get("name") not in verdicts.STATUSES]
            if status != verdicts.PASSED:
                tags.append({"name": status, "line": scenario.get("line", 0)})
            scenario["tags"] = tags
            steps = scenario.setdefault("steps", [])
            if status == verdicts.PASSED:
                continue
            if not steps:  # stopped before its first step (a setup that raised): one step says how it ended
                steps.append(
                    {
                        "keyword": "* ",
                        "name": "the item's outcome",
                        "line": scenario.get("line", 0),
                        "match": {"location": ""},
                        "result": {"status": "passed", "duration": 0},
                    }
                )
            # the step that ended the scenario: the first that did not pass, else the last one recorded
            at = next(
                (n for n, s in enumerate(steps) if (s.get("result") or {}).get("status") != "passed"), len(steps) - 1
            )
            result = steps[at].get("result") or {}
            steps[at]["result"] = {
                "status": CUCUMBER_STATUS.get(status, "failed"),
                "error_message": full_message(item, index),
                "duration": result.get("duration", 0),
            }
    path.write_text(json.dumps(features, indent=2), encoding="utf-8")


# --------------------------------------------------------------------------- all of them


def rewrite_all(*, junit: Path | None, allure: Path | None, cucumber: Path | None, verdict: Mapping[str, Any]) -> None:
    """Rewrite each result file that is there and whole from ``verdict`` (a file that does not parse is left as
    it is: the evidence check names it); then the Allure overview."""
    index = Index(verdict)
    if junit is not None and junit.is_file():
        try:
            rewrite_junit(junit, index)
        except ET.ParseError:
            pass
    if allure is not None and allure.is_dir():
        rewrite_allure(allure, index)
        report.write_overview(allure, verdict)
    if cucumber is not None and cucumber.is_file():
        try:
            rewrite_cucumber(cucumber, index)
        except ValueError:
            pass
