"""The verdict rules: GO only when every blocker passed; a not-verified or errored blocker is never GO. The terminal
table: causes first, each distinct reason once, the VERDICT line last."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops_checks.core.result import Cause
from ops_checks.verdict import verdict
from ops_checks.verdict.verdict import ItemOutcome


def item(status: str, severity: str = "blocker", item_id: str = "1.1.1") -> ItemOutcome:
    return ItemOutcome(item_id, "t", severity, status, "reason" if status != "passed" else "")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (["passed", "passed"], "GO"),
        (["passed", "failed"], "NO-GO"),
        (["passed", "not_verified"], "NO-GO"),
        (["passed", "error"], "NO-GO"),
        (["passed", "not_applicable"], "GO"),
        (["passed", "waived"], "GO"),
        ([], "NO-GO"),
    ],
)
def test_blockers_decide(statuses: list[str], expected: str) -> None:
    assert verdict.decide([item(s) for s in statuses]) == expected


def test_failed_warning_does_not_block_but_failed_blocker_does() -> None:
    assert verdict.decide([item("passed"), item("failed", "warning")]) == "GO"
    assert verdict.decide([item("failed"), item("passed", "warning")]) == "NO-GO"


def test_verdict_json_shape(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    built = verdict.build(
        [verdict.outcome("1.3.1", "failed", "no HALT"), verdict.outcome("1.1.1", "passed")],
        target="sandbox",
        started_at=now,
        finished_at=now,
        operator="a",
        witness="b",
    )
    (tmp_path / "junit.xml").write_text("<x/>")
    built["results_sha256"] = verdict.results_digest(tmp_path)
    data = json.loads(verdict.write(tmp_path, built).read_text())
    assert set(data) == {
        "verdict",
        "target",
        "started_at",
        "finished_at",
        "operator",
        "witness",
        "items",
        "counts",
        "warnings",
        "results_sha256",
        "selection",
        "waivers",
        "causes",
        "signoff",
        "scope",
    }
    assert [i["id"] for i in data["items"]] == ["1.1.1", "1.3.1"]
    assert data["items"][1] == {
        "id": "1.3.1",
        "title": "Kill switch functional",
        "severity": "blocker",
        "status": "failed",
        "reason": "no HALT",
        "cause": None,
        "blocked_by": [],
        "cause_id": "C1",
    }
    assert data["counts"] == {
        "passed": 1,
        "failed": 1,
        "error": 0,
        "not_verified": 0,
        "not_applicable": 0,
        "waived": 0,
        "total": 2,
    }
    assert data["verdict"] == "NO-GO" and len(data["results_sha256"]) == 64
    assert "junit.xml" in (tmp_path / "results.sha256").read_text()


def test_table_names_every_problem_on_one_line() -> None:
    now = datetime.now(UTC)
    built = verdict.build(
        [verdict.outcome("1.2.4", "failed", "drift 1500 ms"), verdict.outcome("1.6.3", "not_verified", "db down")],
        target="live",
        started_at=now,
        finished_at=now,
        operator=None,
        witness=None,
    )
    text = verdict.render_table(built)
    assert "FAILED       1.2.4" in text and "drift 1500 ms" in text
    assert "NOT VERIFIED 1.6.3" in text and text.rstrip().splitlines()[-1].startswith("VERDICT: NO-GO — 2 causes")


def test_waived_blocker_does_not_block_and_keeps_its_story() -> None:
    from datetime import date

    from ops_checks.verdict.waivers import Waiver

    waiver = Waiver("1.4.3", "Grafana migration", "Head of Ops", date(2099, 1, 1))
    items = verdict.apply_waivers([item("failed", item_id="1.4.3"), item("passed", item_id="1.1.1")], {"1.4.3": waiver})
    assert [i.status for i in items] == ["waived", "passed"]
    assert "Grafana migration" in items[0].reason and "was failed" in items[0].reason
    assert verdict.decide(items) == "GO"


def test_kill_switch_item_is_never_waived_even_if_a_waiver_slips_through() -> None:
    from datetime import date

    from ops_checks.verdict.waivers import Waiver

    items = verdict.apply_waivers(
        [item("failed", item_id="1.3.1")], {"1.3.1": Waiver("1.3.1", "x", "y", date(2099, 1, 1))}
    )
    assert items[0].status == "failed" and verdict.decide(items) == "NO-GO"


def test_partial_selection_is_never_go() -> None:
    now = datetime.now(UTC)
    items = [verdict.outcome("1.1.1", "passed")]
    whole = {"complete": True, "left_out": []}
    part = {"complete": False, "left_out": ["1.1.2"]}
    assert (
        verdict.build(
            items, target="sandbox", started_at=now, finished_at=now, operator=None, witness=None, selection=whole
        )["verdict"]
        == "GO"
    )
    assert (
        verdict.build(
            items, target="sandbox", started_at=now, finished_at=now, operator=None, witness=None, selection=part
        )["verdict"]
        == "PARTIAL"
    )
    failing = [verdict.outcome("1.1.1", "failed", "x")]
    assert (
        verdict.build(
            failing, target="sandbox", started_at=now, finished_at=now, operator=None, witness=None, selection=part
        )["verdict"]
        == "NO-GO"
    )
    assert verdict.EXIT_CODES == {"GO": 0, "NO-GO": 1, "PARTIAL": 3}


def test_a_waiver_never_turns_an_unverified_item_into_a_pass() -> None:
    from datetime import date

    from ops_checks.verdict.waivers import Waiver

    w = Waiver("1.4.3", "dashboards migrating", "C. Approver", date(2099, 1, 1))
    for status in ("error", "not_verified"):
        [out] = verdict.apply_waivers([verdict.outcome("1.4.3", status, "postgres unreachable")], {"1.4.3": w})
        assert out.status == status
    [out] = verdict.apply_waivers([verdict.outcome("1.4.3", "failed", "missing")], {"1.4.3": w})
    assert out.status == "waived" and "dashboards migrating" in out.reason


# ---------------------------------------------------------------- the terminal: causes first, each reason once

READ_ONLY = Cause(
    "read_only",
    "VALR",
    "VALR's status is read-only: it accepts no orders",
    "wait until https://status.valr.com shows VALR open for trading, then re-run: opscheck preflight",
)
NO_DASHBOARDS = Cause(
    "grafana_dashboards", "grafana", "Grafana holds no dashboards", "import the bot's dashboards into Grafana"
)
VALR_SAYS = "VALR status is 'read-only': orders are not accepted"


def two_causes() -> dict:
    """The shape of the issue's example (exchange_read_only + grafana_dashboards_missing): two faults, 16 items."""
    now = datetime.now(UTC)
    items = [
        verdict.outcome("1.1.1", "passed"),
        verdict.outcome("1.2.1", "failed", VALR_SAYS, cause=READ_ONLY),
        verdict.outcome("6.4.7", "failed", VALR_SAYS, cause=READ_ONLY),
        verdict.outcome("1.4.3", "failed", "no dashboards found", cause=NO_DASHBOARDS),
        verdict.outcome("3.1.2", "failed", "§1 not met: 1.2.1 failed; 1.4.3 failed", blocked_by=("1.2.1", "1.4.3")),
        *(
            verdict.outcome(f"3.3.{n}", "not_verified", "transition refused", blocked_by=("3.1.2",))
            for n in range(1, 11)
        ),
        verdict.outcome("6.4.3", "not_verified", "the resume stopped at 6.4.7", blocked_by=("6.4.7",)),
        verdict.outcome("6.4.8", "not_verified", "the resume stopped at 6.4.7", blocked_by=("6.4.7",)),
    ]
    return verdict.build(items, target="sandbox", started_at=now, finished_at=now, operator=None, witness=None)


def test_terminal_shows_the_causes_first_then_items_pointing_at_them() -> None:
    built = two_causes()
    lines = verdict.render_table(built).splitlines()
    assert lines[-1].startswith("VERDICT: NO-GO — 2 causes, 16 items  (1/17 passed")
    why = lines.index("WHY NO-GO: 2 causes, 16 items")
    assert lines[why + 1] == f"C1   {READ_ONLY.detail}" and lines[why + 2] == f"     remedy: {READ_ONLY.remedy}"
    assert lines[why + 3] == ("     items:  1.2.1, 6.4.7 failed; resting on them: 3.1.2, 3.3.1–3.3.10, 6.4.3, 6.4.8")
    assert lines[why + 4] == f"C2   {NO_DASHBOARDS.detail}"
    assert lines[why + 6] == "     items:  1.4.3 failed; also holds up 3.1.2, 3.3.1–3.3.10 (under C1)"
    text = "\n".join(lines)
    # the causes come before the items; the item lines point at them
    assert text.index("C1   ") < text.index("FAILED       1.2.1")
    assert f"FAILED       1.2.1    [blocker] VALR API reachable: {VALR_SAYS} → C1" in lines
    assert "FAILED       6.4.7    [blocker] Exchange connectivity OK → C1" in lines  # its reason was said once
    assert "FAILED       3.1.2    [blocker] All §1 preconditions verified → C1, C2 (rests on 1.2.1, 1.4.3)" in lines
    assert "NOT VERIFIED 3.3.4    [blocker] Environment updated → C1, C2 (rests on 3.1.2)" in lines
    assert "NOT VERIFIED 6.4.8    [blocker] Daily P&L reset → C1 (rests on 6.4.7)" in lines
    # each distinct reason once: a derived item's own reason is not repeated, the shared error appears once
    assert text.count(VALR_SAYS) == 1 and "transition refused" not in text


def test_a_go_run_has_no_causes_and_a_plain_verdict_line() -> None:
    now = datetime.now(UTC)
    built = verdict.build(
        [
            verdict.outcome("1.1.1", "passed"),
            verdict.outcome("1.4.3", "waived", "waived until 2099-01-01 by X: migrating"),
        ],
        target="sandbox",
        started_at=now,
        finished_at=now,
        operator=None,
        witness=None,
    )
    lines = verdict.render_table(built).splitlines()
    assert not any(line.startswith(("WHY NO-GO", "C1")) for line in lines)
    assert "WAIVED       1.4.3    [blocker] Grafana dashboards: waived until 2099-01-01 by X: migrating" in lines
    assert lines[-1].startswith("VERDICT: GO  (1/2 passed")


def test_warning_only_causes_do_not_read_as_why_no_go() -> None:
    now = datetime.now(UTC)
    built = verdict.build(
        [verdict.outcome("1.1.1", "passed"), verdict.outcome("8.7.2", "failed", "drift 600 ms")],
        target="sandbox",
        started_at=now,
        finished_at=now,
        operator=None,
        witness=None,
    )
    text = verdict.render_table(built)
    assert "WHY NO-GO" not in text and "(warnings only)" in text
    assert text.splitlines()[-1].startswith("VERDICT: GO  (")


def test_compact_ids_and_points_at() -> None:
    ids = ["1.1.1", "3.3.1", "3.3.2", "3.3.3", "3.3.5", "3.3.6", "sop.daily.1", "sop.daily.2", "sop.daily.3"]
    assert verdict.compact_ids(ids) == "1.1.1, 3.3.1–3.3.3, 3.3.5, 3.3.6, sop.daily.1–sop.daily.3"
    assert verdict.compact_ids([]) == ""
    items = {i["id"]: i for i in two_causes()["items"]}
    assert verdict.points_at(items["3.3.1"], items) == ["C1", "C2"]
    assert verdict.points_at(items["1.4.3"], items) == ["C2"] and verdict.points_at(items["1.1.1"], items) == []
    assert verdict.open_blockers(items["3.1.2"], items) == ["1.2.1", "1.4.3"]


def test_a_result_without_a_reason_reads_without_python_reprs() -> None:
    from ops_checks.core.result import CheckResult

    r = CheckResult(False, {"status": "healthy", "database": "connected"}, ["View access", "Trade"])
    assert r.summary() == "observed status=healthy, database=connected, expected View access, Trade"


def test_the_why_line_counts_the_causes_it_lists_warning_only_ones_apart() -> None:
    """The header counts what blocks GO, and says how many more of the listed causes only warn."""
    now = datetime.now(UTC)
    built = verdict.build(
        [
            verdict.outcome("1.4.3", "failed", "no dashboards found", cause=NO_DASHBOARDS),
            verdict.outcome("2.2.4", "failed", "BUDGETGUARD_STRICT_MODE is not set", cause=READ_ONLY),
        ],
        target="sandbox",
        started_at=now,
        finished_at=now,
        operator=None,
        witness=None,
    )
    lines = verdict.render_table(built).splitlines()
    assert "WHY NO-GO: 1 cause, 1 item; and 1 with warnings only" in lines
    assert sum(1 for line in lines if line[:1] == "C" and line[1:2].isdigit()) == 2
