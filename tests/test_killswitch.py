"""The §4.3 kill-switch flow against a real sandbox: steps, methods, fail-safe, the advisory lock, interruption."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import psycopg
import pytest

from ops_checks.procedures import killswitch
from ops_checks.sandbox import faults_s4, postgres
from ops_checks.sandbox.environment import Sandbox
from ops_checks.target import killswitch_state
from ops_checks.target.config import Target
from ops_checks.target.db import connect

# the fault's function with its refusal switched off: the sandbox's own compute_row_hash again
RESTORE_ROW_HASH = faults_s4.ROW_HASH_REJECTS_EVENTS.replace(
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


def state(t: Target) -> killswitch_state.KillSwitchState:
    with connect(t.db, t.redactor) as db:
        return killswitch_state.read_state(db)


def orders(sb: Sandbox) -> int:
    assert sb.valr is not None
    return len(sb.valr.orders)


def test_healthy_flow_passes_every_step_and_times_the_halt(sb: Sandbox, t: Target) -> None:
    flow = killswitch.run_flow(t, killswitch.FlowOptions(exchange_orders=lambda: orders(sb)))
    assert flow.ok, {k: v.summary() for k, v in flow.results.items()}
    assert list(flow.results) == list(killswitch.FLOW_ORDER)
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
    flow = killswitch.run_flow(t, killswitch.FlowOptions(exchange_orders=lambda: orders(sb)))
    assert flow.ok, {k: v.summary() for k, v in flow.results.items()}
    assert flow.per_signal and "for the test signal" in flow.results["4.4.3"].reason
    assert not state(t).active


def test_events_refused_by_the_row_hash_trigger_fail_the_activation_and_leave_it_active(sb: Sandbox, t: Target) -> None:
    sb.admin(faults_s4.ROW_HASH_REJECTS_EVENTS)
    flow = killswitch.run_flow(t)
    failed = [k for k, v in flow.results.items() if not v.ok]
    assert failed == ["4.4.2"]
    reason = flow.results["4.4.2"].reason
    assert "compute_row_hash: Unknown table circuit_breaker_events" in reason and "LEFT ACTIVE" in reason
    assert state(t).active and flow.left_active


def test_a_bot_that_records_no_decisions_fails_the_halt_step(sb: Sandbox, t: Target) -> None:
    sb.admin(faults_s4.NO_DECISIONS)
    flow = killswitch.run_flow(t)
    failed = [k for k, v in flow.results.items() if not v.ok]
    assert failed == ["4.4.3"], {k: v.summary() for k, v in flow.results.items()}
    assert flow.per_signal and "test signal" in flow.results["4.4.3"].reason
    assert state(t).active


def test_method_2_on_a_bot_without_the_endpoint_names_both_sides(t: Target) -> None:
    import dataclasses

    real = dataclasses.replace(t, profile=dataclasses.replace(t.profile, runbook_kill_switch_path="/api/nothing"))
    flow = killswitch.run_flow(real, killswitch.FlowOptions(method="api"))
    reason = flow.results["4.4.2"].reason
    assert not flow.results["4.4.2"].ok
    assert reason.startswith("runbook §4.2 Method 2 POST /api/nothing → HTTP 404; the bot has GET /guardian/status, "
                             "POST /guardian/unlock")
    assert not state(t).active  # nothing was changed


def test_guardian_api_method_passes(sb: Sandbox, t: Target) -> None:
    flow = killswitch.run_flow(t, killswitch.FlowOptions(method="api", exchange_orders=lambda: orders(sb)))
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
    flow = killswitch.run_flow(t, killswitch.FlowOptions(exchange_orders=lambda: orders(sb)))
    failed = [k for k, v in flow.results.items() if not v.ok]
    assert failed == [failing], {k: v.summary() for k, v in flow.results.items()}
    later = killswitch.FLOW_ORDER[killswitch.FLOW_ORDER.index(failing) + 1 :]
    assert all(flow.outcome(i) is None for i in later)
    assert all(flow.not_reached(i).startswith("not verified: ") for i in later)
    assert state(t).active is left_active
    assert flow.left_active is left_active
    if left_active:
        assert "LEFT ACTIVE" in flow.results[failing].reason


def test_switch_already_active_is_left_untouched(t: Target, sb: Sandbox) -> None:
    sb.admin(
        "UPDATE system_settings SET circuit_breaker_active = TRUE, circuit_breaker_reason = 'OPERATOR' WHERE id = 1"
    )
    flow = killswitch.run_flow(t)
    assert not flow.results["4.4.1"].ok and "left untouched" in flow.results["4.4.1"].reason
    after = state(t)
    assert after.active and after.reason == "OPERATOR"


def test_a_second_mutating_run_is_refused_while_the_lock_is_held(t: Target) -> None:
    with psycopg.connect(t.db.dsn(), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (killswitch_state.LOCK_KEY,))
        flow = killswitch.run_flow(t)
    assert list(flow.results) == ["4.4.1"]
    assert not flow.results["4.4.1"].ok and "advisory lock" in flow.results["4.4.1"].reason
    assert not state(t).active  # the refused run never touched the switch
    assert killswitch.run_flow(t).ok  # once released, a run proceeds


def test_interruption_during_the_halt_wait_leaves_the_switch_active(t: Target, monkeypatch: pytest.MonkeyPatch) -> None:
    original = killswitch._Runner.poll

    def poll(self: killswitch._Runner, query: str, since: datetime, timeout_s: float):  # type: ignore[no-untyped-def]
        if query is killswitch._FIRST_HALT:
            raise KeyboardInterrupt
        return original(self, query, since, timeout_s)

    monkeypatch.setattr(killswitch._Runner, "poll", poll)
    with pytest.raises(killswitch.Interrupted, match="LEFT ACTIVE"):
        killswitch.run_flow(t)
    after = state(t)
    assert after.active and after.reason == killswitch.VERIFICATION_REASON
    with psycopg.connect(t.db.dsn(), autocommit=True) as other:  # the interrupted run released its lock
        got = other.execute("SELECT pg_try_advisory_lock(%s)", (killswitch_state.LOCK_KEY,)).fetchone()
        assert got is not None and got[0] is True


def test_read_only_target_does_not_run(t: Target) -> None:
    import dataclasses

    flow = killswitch.run_flow(dataclasses.replace(t, allow_mutations=False))
    assert flow.results == {} and "allow-mutations" in flow.not_reached("4.4.1")


def test_unknown_method_fails_first_step(t: Target) -> None:
    flow = killswitch.run_flow(t, killswitch.FlowOptions(method="python"))
    assert not flow.results["4.4.1"].ok and not state(t).active


def test_item_1_3_1_still_collapses_the_flow(sb: Sandbox, t: Target) -> None:
    assert sb.bot is not None
    ok = killswitch.verify_kill_switch(t)
    assert ok.ok and "HALT in" in ok.reason and any(e.name == "kill-switch latency" for e in ok.evidence)
    sb.bot.knobs.ignore_kill_switch = True
    bad = killswitch.verify_kill_switch(t)
    assert not bad.ok and "LEFT ACTIVE" in bad.reason and "\n" not in bad.reason


def test_unreachable_database_is_a_one_line_failure(t: Target) -> None:
    import dataclasses

    dead = dataclasses.replace(t, db=dataclasses.replace(t.db, port=postgres.free_port()))
    flow = killswitch.run_flow(dead)
    assert not flow.results["4.4.1"].ok and "\n" not in flow.results["4.4.1"].reason


def test_a_row_lock_held_elsewhere_is_not_reported_as_left_active(sb: Sandbox, t: Target) -> None:
    """Issue 13 §2: another session holds SELECT … FOR UPDATE on system_settings, so the activation's UPDATE times
    out and never commits. The flow must not claim "LEFT ACTIVE": it re-reads the committed state (inactive)."""
    assert sb.db is not None
    with psycopg.connect(sb.db.admin_db_dsn) as blocker:
        blocker.execute("SELECT * FROM system_settings WHERE id = 1 FOR UPDATE")
        flow = killswitch.run_flow(t, killswitch.FlowOptions(exchange_orders=lambda: orders(sb)))
        blocker.rollback()
    assert not flow.ok
    failing = next(r for r in flow.results.values() if not r.ok)
    assert "LEFT ACTIVE" not in failing.reason, failing.reason
    assert "INACTIVE (re-read from the database" in failing.reason, failing.reason
    assert not flow.left_active
    assert not state(t).active
