"""Make the third-party result files tell what the verdict tells.

pytest, allure-pytest-bdd and the Cucumber writer know only pass/fail: a waived item shows as a red failure
and JUnit names a test by its function. Before the results are hashed, these rewrite each file from the
verdict's items: a waived item becomes *skipped* with ``waived: <justification, approver, expiry>`` (JUnit
``<skipped>``, Allure status ``skipped`` with a ``waived`` tag, Cucumber step status ``skipped``), each
JUnit test case is named ``<item id> <title>``, and Allure step parameters keep only the steps' literal
arguments (never a fixture's or a result's repr).
"""

from __future__ import annotations

import ast
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ops_checks.catalogue import id_for_tag

WAIVED = "waived"


def _waived_message(item: Mapping[str, Any]) -> str:
    return f"waived: {item.get('reason', '')}"


def rewrite_junit(path: Path, items: Mapping[str, Mapping[str, Any]]) -> None:
    tree = ET.parse(path)  # noqa: S314 - our own pytest's output
    for suite in tree.getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            prop = case.find("properties/property[@name='runbook_item']")
            item = items.get(prop.get("value", "")) if prop is not None else None
            if item is None:
                continue
            case.set("name", f"{item['id']} {item.get('title', '')}".strip())
            if item.get("status") == WAIVED:
                for child in [c for c in case if c.tag in ("failure", "error")]:
                    case.remove(child)
                if case.find("skipped") is None:
                    ET.SubElement(case, "skipped", {"type": "waived", "message": _waived_message(item)})
        cases = list(suite.iter("testcase"))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    tree.write(path, encoding="utf-8", xml_declaration=True)


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


def rewrite_allure(results_dir: Path, items: Mapping[str, Mapping[str, Any]]) -> None:
    waived = {k: v for k, v in items.items() if v.get("status") == WAIVED}
    for path in results_dir.glob("*-result.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        _tidy_steps(data)
        story = next((lbl["value"] for lbl in data.get("labels", []) if lbl.get("name") == "story"), "")
        item = waived.get(story.split(" ")[0]) if story else None
        if item is not None:
            data["status"] = "skipped"
            data["statusDetails"] = {"message": _waived_message(item), "trace": ""}
            data.setdefault("labels", []).append({"name": "tag", "value": WAIVED})
        path.write_text(json.dumps(data), encoding="utf-8")


def rewrite_cucumber(path: Path, items: Mapping[str, Mapping[str, Any]]) -> None:
    waived = {k: v for k, v in items.items() if v.get("status") == WAIVED}
    if not waived:
        return
    features = json.loads(path.read_text(encoding="utf-8"))
    for feature in features:
        for scenario in feature.get("elements", []):
            ids = [id_for_tag(t.get("name", "")) for t in scenario.get("tags", [])]
            item = next((waived[i] for i in ids if i in waived), None)
            if item is None:
                continue
            scenario.setdefault("tags", []).append({"name": WAIVED, "line": scenario.get("line", 0)})
            for step in scenario.get("steps", []):
                result = step.get("result", {})
                if result.get("status") == "failed":
                    step["result"] = {"status": "skipped", "error_message": _waived_message(item),
                                      "duration": result.get("duration", 0)}
    path.write_text(json.dumps(features, indent=2), encoding="utf-8")


def rewrite_all(*, junit: Path | None, allure: Path | None, cucumber: Path | None,
                verdict_items: list[Mapping[str, Any]]) -> None:
    items = {str(i["id"]): i for i in verdict_items}
    if junit is not None and junit.is_file():
        rewrite_junit(junit, items)
    if allure is not None and allure.is_dir():
        rewrite_allure(allure, items)
    if cucumber is not None and cucumber.is_file():
        rewrite_cucumber(cucumber, items)
