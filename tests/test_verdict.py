"""The verdict rules: GO only when every blocker passed; a skipped or broken blocker is never GO."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops_checks.verdict import verdict
from ops_checks.verdict.verdict import ItemOutcome


def item(status: str, severity: str = "blocker", item_id: str = "1.1.1") -> ItemOutcome:
    return ItemOutcome(item_id, "t", severity, status, "reason" if status != "passed" else "")


@pytest.mark.parametrize(("statuses", "expected"), [
    (["passed", "passed"], "GO"),
    (["passed", "failed"], "NO-GO"),
    (["passed", "skipped"], "NO-GO"),
    (["passed", "broken"], "NO-GO"),
    ([], "NO-GO"),
])
def test_blockers_decide(statuses: list[str], expected: str) -> None:
    assert verdict.decide([item(s) for s in statuses]) == expected


def test_failed_warning_does_not_block_but_failed_blocker_does() -> None:
    assert verdict.decide([item("passed"), item("failed", "warning")]) == "GO"
    assert verdict.decide([item("failed"), item("passed", "warning")]) == "NO-GO"


def test_verdict_json_shape(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    built = verdict.build([verdict.outcome("1.3.1", "failed", "no HALT"), verdict.outcome("1.1.1", "passed")],
                          target="sandbox", started_at=now, finished_at=now, operator="a", witness="b")
    (tmp_path / "junit.xml").write_text("<x/>")
    built["results_sha256"] = verdict.results_digest(tmp_path)
    data = json.loads(verdict.write(tmp_path, built).read_text())
    assert set(data) == {"verdict", "target", "started_at", "finished_at", "operator", "witness", "items", "counts",
                         "warnings", "results_sha256", "selection", "waivers"}
    assert [i["id"] for i in data["items"]] == ["1.1.1", "1.3.1"]
    assert data["items"][1] == {"id": "1.3.1", "title": "Kill switch functional", "severity": "blocker",
                                "status": "failed", "reason": "no HALT"}
    assert data["counts"] == {"passed": 1, "failed": 1, "broken": 0, "skipped": 0, "waived": 0, "total": 2}
    assert data["verdict"] == "NO-GO" and len(data["results_sha256"]) == 64
    assert "junit.xml" in (tmp_path / "results.sha256").read_text()


def test_table_names_every_problem_on_one_line() -> None:
    now = datetime.now(UTC)
    built = verdict.build([verdict.outcome("1.2.4", "failed", "drift 1500 ms"), verdict.outcome("1.6.3", "skipped",
                          "not verified: db down")], target="live", started_at=now, finished_at=now,
                          operator=None, witness=None)
    text = verdict.render_table(built)
    assert "FAILED       1.2.4" in text and "drift 1500 ms" in text
    assert "NOT VERIFIED 1.6.3" in text and text.rstrip().splitlines()[-1].startswith("VERDICT: NO-GO")


def test_waived_blocker_does_not_block_and_keeps_its_story() -> None:
    from datetime import date

    from ops_checks.verdict.waivers import Waiver

    waiver = Waiver("1.4.3", "Grafana migration", "Head of Ops", date(2099, 1, 1))
    items = verdict.apply_waivers([item("failed", item_id="1.4.3"), item("passed", item_id="1.1.1")],
                                  {"1.4.3": waiver})
    assert [i.status for i in items] == ["waived", "passed"]
    assert "Grafana migration" in items[0].reason and "was failed" in items[0].reason
    assert verdict.decide(items) == "GO"


def test_kill_switch_item_is_never_waived_even_if_a_waiver_slips_through() -> None:
    from datetime import date

    from ops_checks.verdict.waivers import Waiver

    items = verdict.apply_waivers([item("failed", item_id="1.3.1")],
                                  {"1.3.1": Waiver("1.3.1", "x", "y", date(2099, 1, 1))})
    assert items[0].status == "failed" and verdict.decide(items) == "NO-GO"


def test_partial_selection_is_never_go() -> None:
    now = datetime.now(UTC)
    items = [verdict.outcome("1.1.1", "passed")]
    whole = {"complete": True, "left_out": []}
    part = {"complete": False, "left_out": ["1.1.2"]}
    assert verdict.build(items, target="sandbox", started_at=now, finished_at=now, operator=None, witness=None,
                         selection=whole)["verdict"] == "GO"
    assert verdict.build(items, target="sandbox", started_at=now, finished_at=now, operator=None, witness=None,
                         selection=part)["verdict"] == "PARTIAL"
    failing = [verdict.outcome("1.1.1", "failed", "x")]
    assert verdict.build(failing, target="sandbox", started_at=now, finished_at=now, operator=None, witness=None,
                         selection=part)["verdict"] == "NO-GO"
    assert verdict.EXIT_CODES == {"GO": 0, "NO-GO": 1, "PARTIAL": 3}


def test_a_waiver_never_turns_an_unverified_item_into_a_pass() -> None:
    from datetime import date

    from ops_checks.verdict.waivers import Waiver

    w = Waiver("1.4.3", "dashboards migrating", "C. Approver", date(2099, 1, 1))
    for status in ("broken", "skipped"):
        [out] = verdict.apply_waivers([verdict.outcome("1.4.3", status, "postgres unreachable")], {"1.4.3": w})
        assert out.status == status
    [out] = verdict.apply_waivers([verdict.outcome("1.4.3", "failed", "missing")], {"1.4.3": w})
    assert out.status == "waived" and "dashboards migrating" in out.reason
