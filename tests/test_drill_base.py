"""Issue 14: one drill base and one step engine (pure logic; the drills themselves run in their own tests)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import pytest

from ops_checks.access.config import Target
from ops_checks.access.db import DbError
from ops_checks.catalogue import ITEMS
from ops_checks.core.result import CheckResult, Status, failed, not_applicable, passed
from ops_checks.drills import base as drill_base
from ops_checks.procedures.sequence import StepFailed, StepRun, first_line, one_line
from ops_checks.sandbox.environment import Sandbox


def test_the_engine_stops_at_the_first_failed_step() -> None:
    ran: list[str] = []

    def step(name: str, fail: bool = False):  # type: ignore[no-untyped-def]
        def action() -> None:
            ran.append(name)
            if fail:
                raise StepFailed(f"{name} broke")

        return name, action

    engine = StepRun((DbError,), lambda _n, _e: "unused")
    assert not engine.run([step("a"), step("b", fail=True), step("c")])
    assert ran == ["a", "b"] and engine.done == ["a"]
    assert (engine.stopped_at, engine.reason) == ("b", "b broke")
    assert StepRun((DbError,), lambda _n, _e: "").run([step("x")])


def test_an_expected_error_is_recorded_for_its_step_and_anything_else_propagates() -> None:
    seen: list[tuple[str, str]] = []

    def record(name: str, exc: Exception) -> str:
        seen.append((name, str(exc)))
        return f"{name}: {exc}"

    def db_down() -> None:
        raise DbError("connection refused\nDETAIL: more")

    engine = StepRun((DbError,), record)
    assert not engine.run([("1", lambda: None), ("2", db_down), ("3", lambda: None)])
    assert seen == [("2", "connection refused\nDETAIL: more")] and engine.stopped_at == "2"

    def bug() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        StepRun((DbError,), record).run([("1", bug)])


def test_one_line_helpers() -> None:
    assert one_line("a\n  b\tc", limit=4) == "a b "
    assert first_line(OSError("first\nsecond")) == "first"
    assert first_line(ValueError()) == "ValueError"


def test_the_guarded_runner_turns_an_error_into_a_failed_item_with_a_one_line_reason() -> None:
    drill = drill_base.Drill()

    def broken() -> CheckResult:
        raise OSError("disk full\ntraceback follows")

    result = drill.guarded("x.1", broken)
    assert not result.ok and result.reason == "drill error: disk full" and result.expected == "drill completed"
    assert drill.guarded("x.2", lambda: passed("ok", "ok", "fine")).ok
    assert [line.split(" ", 1)[1] for line in drill.procedure] == [
        "x.1: FAILED drill error: disk full",
        "x.2: passed fine",
    ]
    with pytest.raises(KeyError):  # not a drill error: a bug propagates
        drill.guarded("x.3", lambda: {}["missing"])
    custom = drill_base.guard(broken, (OSError,), "row", "NOT done: ")
    assert (custom.expected, custom.reason) == ("row", "NOT done: disk full")


def test_outcome_requirement_and_the_live_path() -> None:
    drill = drill_base.Drill()
    drill.results["a"] = failed("no", "yes", "a broke")
    drill.results["b"] = passed("yes", "yes", "b fine")
    assert drill.outcome("b").ok
    missing = drill.outcome("c")
    assert not missing.ok and missing.reason == "the drill did not reach c"
    rests = drill.requirement("a")  # resting on a failed item: not verified, pointing at it (never repeating it)
    assert rests is not None and rests.status is Status.NOT_VERIFIED and rests.blocked_by == ("a",)
    assert rests.reason == "rests on a, which failed" and "a broke" not in rests.reason
    assert drill.requirement("b") is None
    unreached = drill.requirement("c")
    assert unreached is not None and unreached.blocked_by == ("c",) and "did not reach" in unreached.reason
    assert drill.not_reached("a") is None
    live = passed("live", "live", "read-only check")
    assert drill_base.outcome("a", None, lambda: live) is live
    assert drill_base.outcome("b", drill, lambda: live) is drill.results["b"]
    assert repr(drill) == "<base drill>"


def test_every_drill_is_a_drill_base_and_keeps_its_short_repr() -> None:
    """Step arguments are shown in reports: a drill never dumps its state (a subclass dataclass would)."""
    from ops_checks.drills import emergency_drill, incident_drill, transition_drill
    from ops_checks.drills import sop_drills as drills

    for module in (emergency_drill, incident_drill, transition_drill, drills):
        drill = module.Drill()
        assert isinstance(drill, drill_base.Drill)
        assert repr(drill) == f"<{module.__name__.rsplit('.', 1)[-1]} drill>"


def test_the_library_gives_the_drill_result_in_the_sandbox_and_the_registry_check_on_live(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A drill item's step hands over the session's drill (None on live): the library decides which runs."""
    from ops_checks.checks.s5_emergency import emergency_checklist

    live = passed("live", "live", "read-only readiness")
    calls: list[tuple[object, str, Path | None]] = []

    def ready(t: Target, item: str, runbook_dir: Path | None) -> CheckResult:
        calls.append((t, item, runbook_dir))
        return live

    monkeypatch.setattr(emergency_checklist, "ready", ready)  # the registry names it: 5.7.x's Item.check
    target = cast(Target, object())
    assert drill_base.item_result(target, None, "5.7.3", runbook_dir=tmp_path) is live
    assert calls == [(target, "5.7.3", tmp_path)]  # the item's own check_args and check_needs
    drill = drill_base.Drill()
    drill.results["5.7.3"] = failed("no", "yes", "row 3 broke")
    assert drill_base.item_result(target, drill, "5.7.3", runbook_dir=tmp_path) is drill.results["5.7.3"]
    assert len(calls) == 1  # in the sandbox the live check does not run
    assert drill_base.requirement("5.7.3", None) is None and drill_base.not_reached("5.7.3", None) is None
    rests = drill_base.requirement("5.7.3", drill)
    assert rests is not None and rests.blocked_by == ("5.7.3",)


def test_an_item_out_of_scope_stays_out_of_scope_whatever_its_drill_proved(monkeypatch: pytest.MonkeyPatch) -> None:
    from ops_checks.drills import sop_drills

    out = not_applicable("no websocket declared")
    monkeypatch.setitem(sop_drills.OUT_OF_SCOPE, "sop.2.4", lambda _t: out)
    drill = sop_drills.Drill()
    drill.results["sop.2.4"] = passed("ok", "ok", "feed drill passed")
    target = cast(Target, object())
    assert sop_drills.outcome(target, drill, "sop.2.4") is out
    monkeypatch.setitem(sop_drills.OUT_OF_SCOPE, "sop.2.4", lambda _t: None)
    assert sop_drills.outcome(target, drill, "sop.2.4") is drill.results["sop.2.4"]


def test_the_restore_drill_runs_where_a_site_is_given_else_the_record_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from ops_checks.drills import restore_drill

    recorded = passed("recorded", "recorded", "the last restore drill passed")
    monkeypatch.setattr(restore_drill, "recorded", lambda _t: recorded)
    assert restore_drill.check(cast(Target, object()), *restore_drill.NOWHERE) is recorded


def test_the_session_drills_each_item_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    from ops_checks.drills import session, sop_drills

    assert session.needed(["1.1.1", "3.3.1", "sop.2.4", "sop.2.1"]) == ["transition", "sop"]
    assert session.needed(["1.6.2", "4.4.1"]) == []
    assert session.reads_a_drill("5.7.1") and session.reads_a_drill("6.4.8") and not session.reads_a_drill("sop.2.1")
    # the items each drill is started for are the ones the registry says read it (Item.drill): §3, §5, §6 whole,
    # and exactly the items the SOP drill answers for
    read = {name: {i.id for i in ITEMS if reads(i.id)} for name, (_run, reads) in session.DRILLS.items()}
    assert read == {
        "transition": {i.id for i in ITEMS if i.id.startswith("3.")},
        "emergency": {i.id for i in ITEMS if i.id.startswith("5.")},
        "incident": {i.id for i in ITEMS if i.id.startswith("6.")},
        "sop": set(sop_drills.DRILL_ITEMS),
    }
    applied: list[list[str]] = []
    monkeypatch.setattr(drill_base.sandbox_faults, "apply", lambda _sb, names: applied.append(list(names)))
    box = cast(Sandbox, object())
    drill_base.break_like_session(box, ["feed_resumes_early", "db_connect_revoked"], items=sop_drills.DRILL_ITEMS)
    drill_base.break_like_session(box, ["feed_resumes_early", "db_connect_revoked"])
    assert applied == [["feed_resumes_early"], ["feed_resumes_early", "db_connect_revoked"]]
