"""The §4.3 kill-switch flow against a real sandbox: steps, methods, fail-safe, the advisory lock, interruption."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

import psycopg
import pytest

from ops_checks.access import kill_switch_state
from ops_checks.access.config import Target
from ops_checks.access.db import connect
from ops_checks.core.result import Status
from ops_checks.procedures import kill_switch
from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import s4_kill_switch

# the fault's function with its refusal switched off: the sandbox's own compute_row_hash again
RESTORE_ROW_HASH = s4_kill_switch.ROW_HASH_REJECTS_EVENTS.replace(
    "IF TG_TABLE_NAME NOT IN", "IF FALSE AND TG_TABLE_NAME NOT IN"
)


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    server = postgres.start_server()
    box = Sandbox(server=server)
    try:
        box.start()
        yield box
    finally:
        box.stop()
        server.stop()


@pytest.fixture()
def t(sb: Sandbox) -> Iterator[Target]:
    assert sb.bot is not None and sb.target is not None
    sb.bot.knobs.reset()
    sb.bot.knobs.status_interval_s = 0.25
    sb.admin("UPDATE system_settings SET circuit_breaker_active = FALSE, circuit_breaker_reason = NULL WHERE id = 1")
    sb.admin(RESTORE_ROW_HASH)
    sb.admin("DROP TRIGGER IF EXISTS opscheck_fault_drop_decision ON policy_decision_audit")
    time.sleep(0.25)  # the policy loop sees the reset
    yield sb.target


def state(t: Target) -> kill_switch_state.KillSwitchState:
    with connect(t.db, t.redactor) as db:
        return kill_switch_state.read_state(db)


def orders(sb: Sandbox) -> int:
    assert sb.valr is not None
    return len(sb.valr.orders)


def test_healthy_flow_passes_every_step_and_times_the_halt(sb: Sandbox, t: Target) -> None:
    flow = kill_switch.run_flow(t, kill_switch.FlowOptions(exchange_orders=lambda: orders(sb)))
    assert flow.ok, {k: v.summary() for k, v in flow.results.items()}
    assert list(flow.results) == list(kill_switch.FLOW_ORDER)
    assert flow.latency_ms is not None and 0 < flow.latency_ms < 1000
    assert not state(t).active and not flow.left_active
    figure = flow.results["4.5.1"].evidence[0]
    assert figure.name == "kill-switch latency" and f"latency_ms={flow.latency_ms}" in figure.content
    assert not flow.per_signal  # the sandbox bot also decides in a loop: no signal was needed to see the HALT
    with connect(t.db, t.redactor) as db:
        events = db.rows("SELECT event_type, trigger_reason FROM circuit_breaker_events ORDER BY id DESC LIMIT 2")
        who = db.rows("SELECT action, operator FROM opscheck.ops_operator_actions ORDER BY id DESC LIMIT 2")
        test = db.one(
            "SELECT performed_by, outcome FROM opscheck.ops_prevention_records "
            "WHERE activity = 'kill_switch_test' ORDER BY id DESC LIMIT 1"
        )
    assert [e["event_type"] for e in events] == ["MANUAL_UNLOCK", "MANUAL_LOCK"]
    assert all(len(e["trigger_reason"]) <= 100 for e in events)
    assert [(w["action"], w["operator"]) for w in who] == [
        ("kill_switch_deactivate", "opscheck"),
        ("kill_switch_activate", "opscheck"),
    ]
    assert test == {"performed_by": "opscheck", "outcome": "passed"}


def test_a_bot_that_decides_per_signal_is_made_to_decide_by_a_signed_test_signal(sb: Sandbox, t: Target) -> None:
    assert sb.bot is not None
    sb.bot.knobs.loop_paused = True  # no loop: decisions only when a signal arrives
    flow = kill_switch.run_flow(t, kill_switch.FlowOptions(exchange_orders=lambda: orders(sb)))
    assert flow.ok, {k: v.summary() for k, v in flow.results.items()}
    assert flow.per_signal and "for the test signal" in flow.results["4.4.3"].reason
    assert not state(t).active


def test_a_per_signal_bot_outside_dry_run_leaves_step_6_not_verified_and_the_switch_active(
    sb: Sandbox, t: Target
) -> None:
    """A test signal the bot ALLOWs would trade outside DRY_RUN: 4.4.6 is not verified (a setting cause), never a
    failure with "not verified" written into it, and the switch is activated again and left ACTIVE."""
    import dataclasses

    assert sb.bot is not None
    sb.bot.knobs.loop_paused = True
    live_mode = dataclasses.replace(t, env={**t.env, "EXECUTION_MODE": "LIVE"})
    flow = kill_switch.run_flow(live_mode, kill_switch.FlowOptions(exchange_orders=lambda: orders(sb)))
    step6 = flow.results["4.4.6"]
    assert step6.status.value == "not_verified" and step6.cause is not None, step6
    assert (step6.cause.kind, step6.cause.subject) == ("setting", "EXECUTION_MODE")
    assert "not verified" not in step6.reason and flow.left_active
    assert state(t).active


def test_events_refused_by_the_row_hash_trigger_fail_the_activation_and_leave_it_active(sb: Sandbox, t: Target) -> None:
    sb.admin(s4_kill_switch.ROW_HASH_REJECTS_EVENTS)
    flow = kill_switch.run_flow(t)
    failed = [k for k, v in flow.results.items() if not v.ok]
    assert failed == ["4.4.2"]
    reason = flow.results["4.4.2"].reason
    assert "compute_row_hash: Unknown table circuit_breaker_events" in reason and "LEFT ACTIVE" in reason
    assert state(t).active and flow.left_active


def test_a_bot_that_records_no_decisions_fails_the_halt_step(sb: Sandbox, t: Target) -> None:
    sb.admin(s4_kill_switch.NO_DECISIONS)
    flow = kill_switch.run_flow(t)
    failed = [k for k, v in flow.results.items() if not v.ok]
    assert failed == ["4.4.3"], {k: v.summary() for k, v in flow.results.items()}
    assert flow.per_signal and "test signal" in flow.results["4.4.3"].reason
    assert state(t).active


def test_method_2_on_a_bot_without_the_endpoint_names_both_sides(t: Target) -> None:
    import dataclasses

    real = dataclasses.replace(t, profile=dataclasses.replace(t.profile, runbook_kill_switch_path="/api/nothing"))
    flow = kill_switch.run_flow(real, kill_switch.FlowOptions(method="api"))
    reason = flow.results["4.4.2"].reason
    assert not flow.results["4.4.2"].ok
    assert reason.startswith(
        "runbook §4.2 Method 2 POST /api/nothing → HTTP 404; the bot has GET /guardian/status, POST /guardian/unlock"
    )
    assert not state(t).active  # nothing was changed


def test_guardian_api_method_passes(sb: Sandbox, t: Target) -> None:
    flow = kill_switch.run_flow(t, kill_switch.FlowOptions(method="api", exchange_orders=lambda: orders(sb)))
    assert flow.ok, {k: v.summary() for k, v in flow.results.items()}
    assert "via api" in flow.results["4.4.2"].reason


@pytest.mark.parametrize(
    ("knob", "value", "failing", "left_active"),
    [
        ("webhook_ignores_kill_switch", True, "4.4.4", True),
        ("ignore_kill_switch", True, "4.4.3", True),
        ("kill_switch_delay_s", 1.5, "4.5.1", True),
        ("order_despite_halt", True, "4.4.4", True),
        ("latch_kill_switch", True, "4.4.6", True),
    ],
)
def test_each_broken_bot_fails_its_step_and_stops_there(
    sb: Sandbox, t: Target, knob: str, value: object, failing: str, left_active: bool
) -> None:
    assert sb.bot is not None
    setattr(sb.bot.knobs, knob, value)
    flow = kill_switch.run_flow(t, kill_switch.FlowOptions(exchange_orders=lambda: orders(sb)))
    failed = [k for k, v in flow.results.items() if not v.ok]
    assert failed == [failing], {k: v.summary() for k, v in flow.results.items()}
    later = kill_switch.FLOW_ORDER[kill_switch.FLOW_ORDER.index(failing) + 1 :]
    assert all(flow.outcome(i) is None for i in later)
    assert all(flow.not_reached(i).status is Status.NOT_VERIFIED for i in later)
    assert all(flow.not_reached(i).blocked_by == (failing,) for i in later)  # they rest on the step that stopped it
    assert state(t).active is left_active
    assert flow.left_active is left_active
    if left_active:
        assert "LEFT ACTIVE" in flow.results[failing].reason


def test_switch_already_active_is_left_untouched(t: Target, sb: Sandbox) -> None:
    sb.admin(
        "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = 'OPERATOR' WHERE id = 1"
    )
    flow = kill_switch.run_flow(t)
    assert not flow.results["4.4.1"].ok and "left untouched" in flow.results["4.4.1"].reason
    after = state(t)
    assert after.active and after.reason == "OPERATOR"


def test_a_second_mutating_run_is_refused_while_the_lock_is_held(t: Target) -> None:
    with psycopg.connect(t.db.dsn(), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (kill_switch_state.LOCK_KEY,))
        flow = kill_switch.run_flow(t)
    assert list(flow.results) == ["4.4.1"]
    assert not flow.results["4.4.1"].ok and "advisory lock" in flow.results["4.4.1"].reason
    assert not state(t).active  # the refused run never touched the switch
    assert kill_switch.run_flow(t).ok  # once released, a run proceeds


def test_interruption_during_the_halt_wait_leaves_the_switch_active(t: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    original = kill_switch._Runner.poll

    def poll(self: kill_switch._Runner, query: str, since: datetime, timeout_s: float):  # type: ignore[no-untyped-def]
        if query is kill_switch._FIRST_HALT:
            raise KeyboardInterrupt
        return original(self, query, since, timeout_s)

    monkeypatch.setattr(kill_switch._Runner, "poll", poll)
    with pytest.raises(kill_switch.Interrupted, match="LEFT ACTIVE"):
        kill_switch.run_flow(t)
    after = state(t)
    assert after.active and kill_switch_state.is_suite_hold(after.reason)
    with psycopg.connect(t.db.dsn(), autocommit=True) as other:  # the interrupted run released its lock
        got = other.execute("SELECT pg_try_advisory_lock(%s)", (kill_switch_state.LOCK_KEY,)).fetchone()
        assert got is not None and got[0] is True


def test_read_only_target_does_not_run(t: Target) -> None:
    import dataclasses

    flow = kill_switch.run_flow(dataclasses.replace(t, allow_mutations=False))
    missed = flow.not_reached("4.4.1")
    assert flow.results == {} and "allow-mutations" in missed.reason and missed.cause == kill_switch.READ_ONLY


def test_unknown_method_fails_first_step(t: Target) -> None:
    flow = kill_switch.run_flow(t, kill_switch.FlowOptions(method="python"))
    assert not flow.results["4.4.1"].ok and not state(t).active


def test_item_1_3_1_still_collapses_the_flow(sb: Sandbox, t: Target) -> None:
    assert sb.bot is not None
    ok = kill_switch.verify_kill_switch(t)
    assert ok.ok and "HALT in" in ok.reason and any(e.name == "kill-switch latency" for e in ok.evidence)
    sb.bot.knobs.ignore_kill_switch = True
    bad = kill_switch.verify_kill_switch(t)
    assert not bad.ok and "LEFT ACTIVE" in bad.reason and "\n" not in bad.reason


def test_unreachable_database_is_a_one_line_failure(t: Target) -> None:
    import dataclasses

    dead = dataclasses.replace(t, db=dataclasses.replace(t.db, port=postgres.free_port()))
    flow = kill_switch.run_flow(dead)
    assert not flow.results["4.4.1"].ok and "\n" not in flow.results["4.4.1"].reason


def test_a_row_lock_held_elsewhere_is_not_reported_as_left_active(sb: Sandbox, t: Target) -> None:
    """Issue 13 §2: another session holds SELECT … FOR UPDATE on system_settings, so the activation's UPDATE times
    out and never commits. The flow must not claim "LEFT ACTIVE": it re-reads the committed state (inactive)."""
    assert sb.db is not None
    with psycopg.connect(sb.db.admin_db_dsn) as blocker:
        blocker.execute("SELECT * FROM system_settings WHERE id = 1 FOR UPDATE")
        flow = kill_switch.run_flow(t, kill_switch.FlowOptions(exchange_orders=lambda: orders(sb)))
        blocker.rollback()
    assert not flow.ok
    failing = next(r for r in flow.results.values() if not r.ok)
    assert "LEFT ACTIVE" not in failing.reason, failing.reason
    assert "INACTIVE (re-read from the database" in failing.reason, failing.reason
    assert not flow.left_active
    assert not state(t).active


# -- ownership: an operator's action always wins (issue 21 §1) ---------------------------------------------------------


def _when_held(t: Target, act: Callable[[], None], timeout_s: float = 20.0) -> threading.Thread:
    """Run ``act`` on a thread as soon as a verification's own hold is visible in the database."""

    def watch() -> None:
        end = time.monotonic() + timeout_s
        with connect(t.db, t.redactor) as db:
            while time.monotonic() < end:
                if kill_switch_state.is_suite_hold(kill_switch_state.read_state(db).reason):
                    act()
                    return
                time.sleep(0.003)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _failed(flow: kill_switch.KillSwitchFlow) -> tuple[str, str]:
    item, result = next((i, r) for i, r in flow.results.items() if not r.ok)
    return item, result.reason


def test_an_operator_cli_activation_during_the_verification_is_never_undone(
    sb: Sandbox, t: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    """Operator B runs `opscheck kill-switch activate` while the verification holds the switch: B is told ACTIVE,
    the verification does not deactivate, fails its step and names B; the switch ends ACTIVE with B's reason."""
    from ops_checks.cli import kill_switch as cli

    codes: list[int] = []
    thread = _when_held(
        t,
        lambda: codes.append(cli._activate_sql(t, reason="EMERGENCY_OPERATOR_B", operator="operator-b", deadline_s=10)),
    )
    flow = kill_switch.run_flow(t, kill_switch.FlowOptions(exchange_orders=lambda: orders(sb)))
    thread.join(20)
    assert codes == [0]
    out = capsys.readouterr().out
    assert "took over the kill switch from a running verification" in out and "ACTIVE" in out
    item, reason = _failed(flow)
    assert item == "4.4.5", (item, reason)
    assert "EMERGENCY_OPERATOR_B" in reason and "operator-b" in reason and "LEFT ACTIVE" in reason, reason
    assert flow.left_active and not flow.ok
    after = state(t)
    assert after.active and after.reason == "EMERGENCY_OPERATOR_B"


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        # runbook §5.2's one-liner: a new reason
        (
            "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = 'EMERGENCY_L1' "
            "WHERE id = 1",
            "EMERGENCY_L1",
        ),
        # runbook §4.5's bare UPDATE: nothing visible changes but the row version
        ("UPDATE system_settings SET circuit_breaker_active = TRUE WHERE id = 1", None),
    ],
    ids=["section_5_2_one_liner", "section_4_5_bare_update"],
)
def test_the_runbooks_own_sql_activation_during_the_verification_is_never_undone(
    sb: Sandbox, t: Target, sql: str, reason: str | None
) -> None:
    thread = _when_held(t, lambda: sb.admin(sql))
    flow = kill_switch.run_flow(t, kill_switch.FlowOptions(exchange_orders=lambda: orders(sb)))
    thread.join(20)
    item, why = _failed(flow)
    assert item == "4.4.5", (item, why)
    assert "not deactivated" in why and "LEFT ACTIVE" in why, why
    if reason:
        assert reason in why
    after = state(t)
    assert after.active
    assert after.reason == reason if reason else kill_switch_state.is_suite_hold(after.reason)


def _blocked_on_release(sb: Sandbox, timeout_s: float = 20.0) -> None:
    """Wait until a session waits for a lock while running the verification's release."""
    assert sb.db is not None
    end = time.monotonic() + timeout_s
    with psycopg.connect(sb.db.admin_db_dsn, autocommit=True) as watcher:
        while time.monotonic() < end:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                ("WITH s AS (UPDATE system_settings SET circuit_breaker_active = FALSE%",),
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.005)
    raise AssertionError("the verification never reached its release")


def test_a_reactivation_that_commits_while_the_release_waits_is_never_undone(sb: Sandbox, t: Target) -> None:
    """The operator's UPDATE and the verification's release race for the row: the operator's commits first, while
    the release waits for the row lock. The release's compare-and-set then finds the row changed and does nothing."""
    assert sb.db is not None

    def operator() -> None:
        with psycopg.connect(sb.db.admin_db_dsn) as conn:  # type: ignore[union-attr]
            conn.execute("SELECT 1 FROM system_settings WHERE id = 1 FOR UPDATE")
            _blocked_on_release(sb)
            conn.execute(
                "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = 'EMERGENCY_B', "
                "circuit_breaker_triggered_at = now() WHERE id = 1"
            )
            conn.commit()

    thread = _when_held(t, operator)
    flow = kill_switch.run_flow(t, kill_switch.FlowOptions(exchange_orders=lambda: orders(sb)))
    thread.join(20)
    item, why = _failed(flow)
    assert item == "4.4.5" and "EMERGENCY_B" in why and "LEFT ACTIVE" in why, (item, why)
    after = state(t)
    assert after.active and after.reason == "EMERGENCY_B"


def test_an_operator_activation_queued_behind_the_release_wins(sb: Sandbox, t: Target) -> None:
    """The operator's `kill-switch activate` arrives while the release holds the row: it waits (never refused),
    the release commits first, then the operator's activation. The switch ends ACTIVE with the operator's reason,
    and the verification fails and names the operator instead of reporting a clean deactivation."""
    assert sb.db is not None
    done: list[kill_switch_state.Activation] = []

    def operator() -> None:
        with psycopg.connect(sb.db.admin_db_dsn) as conn:  # type: ignore[union-attr]
            conn.execute("SELECT 1 FROM system_settings WHERE id = 1 FOR UPDATE")
            _blocked_on_release(sb)

            def activate() -> None:
                with connect(t.db, t.redactor, read_only=False) as db:
                    done.append(kill_switch_state.activate_operator(db, "EMERGENCY_OPERATOR_C", deadline_s=15))

            queued = threading.Thread(target=activate, daemon=True)
            queued.start()
            time.sleep(0.3)  # queued behind the release on the row lock
            conn.rollback()  # the release goes first, then the operator's activation
            queued.join(20)

    thread = _when_held(t, operator)
    flow = kill_switch.run_flow(t, kill_switch.FlowOptions(exchange_orders=lambda: orders(sb)))
    thread.join(30)
    assert done and not done[0].already_active
    item, why = _failed(flow)
    assert item in ("4.4.5", "4.4.6") and "EMERGENCY_OPERATOR_C" in why, (item, why)
    after = state(t)
    assert after.active and after.reason == "EMERGENCY_OPERATOR_C"


def test_activate_on_an_active_switch_keeps_the_first_reason_and_time(sb: Sandbox, t: Target) -> None:
    sb.admin(
        "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = 'EMERGENCY_A', "
        "circuit_breaker_triggered_at = now() - interval '1 minute' WHERE id = 1"
    )
    before = state(t)
    with connect(t.db, t.redactor, read_only=False) as db:
        done = kill_switch_state.activate_operator(db, "EMERGENCY_B")
    assert done.already_active and done.took_over is None
    assert (
        (done.state.reason, done.state.triggered_at)
        == (before.reason, before.triggered_at)
        == (
            "EMERGENCY_A",
            before.triggered_at,
        )
    )


def test_activate_waits_out_a_row_lock_and_says_so(sb: Sandbox, t: Target) -> None:
    assert sb.db is not None
    waits: list[str] = []
    with psycopg.connect(sb.db.admin_db_dsn) as blocker:
        blocker.execute("LOCK TABLE system_settings IN ACCESS EXCLUSIVE MODE")
        threading.Timer(2.5, blocker.rollback).start()
        with connect(t.db, t.redactor, read_only=False) as db:
            done = kill_switch_state.activate_operator(
                db, "EMERGENCY_LOCKED", deadline_s=20, on_wait=lambda n, why: waits.append(why)
            )
    assert done.attempts >= 2 and waits and "locked by another session" in waits[0]
    assert state(t).active and state(t).reason == "EMERGENCY_LOCKED"


def test_activate_gives_up_only_at_its_deadline_and_says_it_did_not_activate(sb: Sandbox, t: Target) -> None:
    assert sb.db is not None
    with psycopg.connect(sb.db.admin_db_dsn) as blocker:
        blocker.execute("SELECT 1 FROM system_settings WHERE id = 1 FOR UPDATE")
        with (
            connect(t.db, t.redactor, read_only=False) as db,
            pytest.raises(kill_switch_state.ActivationTimeout, match="NOT activated"),
        ):
            kill_switch_state.activate_operator(db, "EMERGENCY_LOCKED", deadline_s=2.5)
        blocker.rollback()
    assert not state(t).active


def test_the_state_line_under_a_table_lock_is_unknown_with_the_reason_and_the_sql(sb: Sandbox, t: Target) -> None:
    assert sb.db is not None
    with psycopg.connect(sb.db.admin_db_dsn) as blocker:
        blocker.execute("LOCK TABLE system_settings IN ACCESS EXCLUSIVE MODE")
        line = kill_switch.state_line(t)
        blocker.rollback()
    assert line.startswith("kill switch: UNKNOWN") and "lock" in line, line
    assert kill_switch_state.CHECK_BY_HAND in line
