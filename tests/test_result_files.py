"""Issue 15 §8: result files speak the report's language — readable step parameters, no dead runbook links.
Issue 22: every result file says the item's structured status (JUnit, Allure, Cucumber), its reason, and the cause
it points at."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_checks.catalogue import BY_ID, runbook_text, tag_for
from ops_checks.core.result import Cause
from ops_checks.report import result_files
from ops_checks.verdict import verdict as verdicts


def test_allure_step_parameters_keep_only_literal_arguments(tmp_path: Path) -> None:
    result = {
        "name": "3.3.8 LIVE mode verified",
        "labels": [{"name": "story", "value": "3.3.8 LIVE mode verified"}],
        "steps": [
            {
                "name": "When checklist row 3.3.8 is read",
                "parameters": [
                    {"name": "item", "value": "'3.3.8'"},
                    {"name": "request", "value": "<FixtureRequest for <Function test_live_mode_verified>>"},
                    {"name": "target", "value": "Target('sandbox', 'app@h:1/db', bot='http://127.0.0.1:1')"},
                    {"name": "result", "value": "CheckResult(ok=True, observed='passed', expected='x', reason='')"},
                    {"name": "limit", "value": "1000"},
                ],
            }
        ],
    }
    (tmp_path / "a-result.json").write_text(json.dumps(result))
    result_files.rewrite_allure(tmp_path, {})
    params = json.loads((tmp_path / "a-result.json").read_text())["steps"][0]["parameters"]
    assert params == [{"name": "item", "value": "3.3.8"}, {"name": "limit", "value": "1000"}]


def test_runbook_quotes_carry_no_in_document_links(runbooks_dir: Path) -> None:
    text = runbook_text.quote(BY_ID["1.2.4"], runbooks_dir)
    assert "](#" not in text and "Section 8 of the runbook" in text


# ---------------------------------------------------------------- issue 22: one structured status, every file


def run_verdict() -> dict:
    """A run with every status: 1.2.1 failed (cause C1), 3.3.1 not verified resting on it, 1.5.1 waived, sop.1.1
    out of the declared scope, 8.6.1 an error, 1.1.1 passed."""
    now = datetime.now(UTC)
    read_only = Cause("read_only", "VALR", "VALR is read-only", "wait for VALR to open, then: opscheck preflight")
    return verdicts.build(
        [
            verdicts.outcome("1.1.1", "passed"),
            verdicts.outcome("1.2.1", "failed", "VALR status is read-only", cause=read_only),
            verdicts.outcome("3.3.1", "not_verified", "transition refused", blocked_by=("1.2.1",)),
            verdicts.outcome("1.5.1", "waived", "waived until 2099-01-01 by X: migrating (was failed: none)"),
            verdicts.outcome("sop.1.1", "not_applicable", "no CDP key: declared out of scope in scope.yml"),
            verdicts.outcome("8.6.1", "error", "the check raised ValueError: bad time"),
        ],
        target="sandbox",
        started_at=now,
        finished_at=now,
        operator=None,
        witness=None,
    ) | {"run_id": "run-1"}


IDS = ("1.1.1", "1.2.1", "3.3.1", "1.5.1", "sop.1.1", "8.6.1")


def test_junit_says_each_status_its_way_with_the_reason_and_the_cause(tmp_path: Path) -> None:
    # what pytest wrote: its own idea of each outcome (a waived failure as a failure, an error with a traceback)
    recorded = {
        "1.2.1": '<failure message="AssertionError: x">trace</failure>',
        "3.3.1": '<skipped type="pytest.skip" message="transition refused" />',
        "1.5.1": '<failure message="AssertionError: none">trace</failure>',
        "sop.1.1": '<skipped type="pytest.skip" message="no CDP key" />',
        "8.6.1": '<failure message="ValueError: bad time">Traceback: ValueError: bad time</failure>',
    }
    cases = "".join(
        f'<testcase classname="steps" name="test_{n}"><properties><property name="runbook_item" '
        f'value="{i}" /></properties>{recorded.get(i, "")}</testcase>'
        for n, i in enumerate(IDS)
    )
    path = tmp_path / "junit.xml"
    path.write_text(
        f'<testsuites><testsuite name="pytest" errors="0" failures="3" skipped="2" tests="6">{cases}'
        "</testsuite></testsuites>"
    )
    result_files.rewrite_all(junit=path, allure=None, cucumber=None, verdict=run_verdict())
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("1", "1", "3")
    got = {}
    for case in suite.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        outcome = [
            (c.tag, c.get("type"), c.get("message"), c.text or "")
            for c in case
            if c.tag in ("failure", "error", "skipped")
        ]
        got[props["runbook_item"]] = (case.get("name"), props.get("outcome"), props.get("cause"), outcome)
    assert got["1.1.1"] == ("1.1.1 Database connectivity", "passed", None, [])
    name, status, cause, [(tag, kind, message, body)] = got["1.2.1"]
    assert (name, status, cause, tag, kind) == ("1.2.1 VALR API reachable", "failed", "C1", "failure", "failed")
    assert message == "FAILED: VALR status is read-only"
    assert body == "→ C1: VALR is read-only\n   remedy: wait for VALR to open, then: opscheck preflight"
    assert got["3.3.1"][3][0][:3] == ("skipped", "not_verified", "NOT VERIFIED: transition refused")
    assert "→ C1: VALR is read-only" in got["3.3.1"][3][0][3] and "rests on 1.2.1" in got["3.3.1"][3][0][3]
    assert got["1.5.1"][3][0][:2] == ("skipped", "waived") and "migrating" in got["1.5.1"][3][0][2]
    assert got["1.5.1"][2] is None  # a waived item is no cause's
    assert got["sop.1.1"][3][0][:3] == (
        "skipped",
        "not_applicable",
        "NOT APPLICABLE: no CDP key: declared out of scope in scope.yml",
    )
    tag, kind, message, body = got["8.6.1"][3][0]
    assert (tag, kind, message) == ("error", "error", "ERROR: the check raised ValueError: bad time")
    assert body.endswith("Traceback: ValueError: bad time")  # an error keeps what stopped the check


def allure_result(item_id: str, status: str, message: str) -> dict[str, Any]:
    story = f"{item_id} {BY_ID[item_id].title}"
    return {
        "name": story,
        "status": status,
        "statusDetails": {"message": message, "trace": "Traceback …"},
        "labels": [{"name": "story", "value": story}, {"name": "tag", "value": "blocker"}],
    }


def test_allure_status_labels_and_message_come_from_the_verdict(tmp_path: Path) -> None:
    recorded = {
        "1.1.1": "passed",
        "1.2.1": "failed",
        "3.3.1": "skipped",
        "1.5.1": "failed",
        "sop.1.1": "skipped",
        "8.6.1": "failed",
    }
    for n, (item_id, status) in enumerate(recorded.items()):
        (tmp_path / f"{n}-result.json").write_text(json.dumps(allure_result(item_id, status, "Skipped: x")))
    verdict = run_verdict()
    result_files.rewrite_all(junit=None, allure=tmp_path, cucumber=None, verdict=verdict)
    got = {}
    for path in tmp_path.glob("*-result.json"):
        data = json.loads(path.read_text())
        labels = [(lbl["name"], lbl["value"]) for lbl in data["labels"] if lbl["name"] in ("outcome", "cause", "tag")]
        got[data["name"].split(" ")[0]] = (data["status"], labels, data.get("statusDetails"))
    assert got["1.1.1"] == ("passed", [("tag", "blocker"), ("outcome", "passed")], None)
    status, labels, details = got["1.2.1"]
    assert status == "failed" and labels == [
        ("tag", "blocker"),
        ("outcome", "failed"),
        ("cause", "C1"),
        ("tag", "failed"),
    ]
    assert details == {
        "message": "FAILED: VALR status is read-only\n\n→ C1: VALR is read-only\n"
        "   remedy: wait for VALR to open, then: opscheck preflight",
        "trace": "",
    }
    status, labels, details = got["3.3.1"]
    assert status == "skipped" and ("outcome", "not_verified") in labels and ("cause", "C1") in labels
    assert details["message"].startswith("NOT VERIFIED: transition refused\n\n→ C1: VALR is read-only")
    assert got["1.5.1"][0] == "skipped" and ("outcome", "waived") in got["1.5.1"][1]
    assert got["1.5.1"][2]["message"].startswith("WAIVED: waived until 2099-01-01")
    assert got["sop.1.1"][0] == "skipped" and got["sop.1.1"][2]["message"].startswith("NOT APPLICABLE: ")
    assert got["8.6.1"][0] == "broken" and got["8.6.1"][2]["trace"] == "Traceback …"
    # and the overview: categories, the verdict as the report's name
    assert json.loads((tmp_path / "executor.json").read_text())["reportName"].endswith("— NO-GO (2 causes, 3 items)")
    assert (tmp_path / "categories.json").is_file()
    # rewriting twice changes nothing (the labels are not doubled)
    before = {p.name: p.read_text() for p in tmp_path.glob("*-result.json")}
    result_files.rewrite_allure(tmp_path, verdict)
    assert {p.name: p.read_text() for p in tmp_path.glob("*-result.json")} == before


def test_cucumber_steps_and_tags_say_the_items_status(tmp_path: Path) -> None:
    def scenario(item_id: str, steps: list[str]) -> dict[str, Any]:
        return {
            "name": item_id,
            "line": 3,
            "tags": [{"name": tag_for(item_id), "line": 2}],
            "steps": [
                {"keyword": "Given", "name": f"step {n}", "result": {"status": s, "duration": 5}}
                for n, s in enumerate(steps)
            ],
        }

    features = [
        {
            "name": "f",
            "elements": [
                scenario("1.1.1", ["passed", "passed"]),
                scenario("1.2.1", ["passed", "failed"]),
                scenario("3.3.1", ["passed"]),  # a Given that did not hold: pytest-bdd records it as passed
                scenario("1.5.1", ["passed", "failed"]),
                scenario("sop.1.1", ["passed"]),
                scenario("8.6.1", []),  # a setup that raised: no step at all
            ],
        }
    ]
    path = tmp_path / "cucumber.json"
    path.write_text(json.dumps(features))
    result_files.rewrite_all(junit=None, allure=None, cucumber=path, verdict=run_verdict())
    out = {s["name"]: s for s in json.loads(path.read_text())[0]["elements"]}

    def last(item_id: str) -> dict[str, Any]:
        return out[item_id]["steps"][-1]["result"]

    assert [t["name"] for t in out["1.1.1"]["tags"]] == [tag_for("1.1.1")] and last("1.1.1")["status"] == "passed"
    assert last("1.2.1")["status"] == "failed" and last("1.2.1")["error_message"].startswith("FAILED: VALR status")
    assert "→ C1: VALR is read-only" in last("1.2.1")["error_message"]
    assert last("3.3.1")["status"] == "skipped" and last("3.3.1")["error_message"].startswith("NOT VERIFIED: ")
    assert [t["name"] for t in out["3.3.1"]["tags"]] == [tag_for("3.3.1"), "not_verified"]
    assert last("1.5.1")["status"] == "skipped" and "waived" in [t["name"] for t in out["1.5.1"]["tags"]]
    assert last("sop.1.1")["status"] == "skipped" and last("sop.1.1")["error_message"].startswith("NOT APPLICABLE")
    assert last("8.6.1")["status"] == "failed" and last("8.6.1")["error_message"].startswith("ERROR: ")


def test_a_result_file_that_is_not_whole_is_left_for_the_evidence_check(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text("<testsuites><testsuite")
    (tmp_path / "cucumber.json").write_text('[{"a": ')
    allure = tmp_path / "allure"
    allure.mkdir()
    (allure / "x-result.json").write_text("{")
    result_files.rewrite_all(
        junit=tmp_path / "junit.xml", allure=allure, cucumber=tmp_path / "cucumber.json", verdict=run_verdict()
    )
    assert (tmp_path / "junit.xml").read_text() == "<testsuites><testsuite"
    assert (allure / "x-result.json").read_text() == "{"
