"""``opscheck kill-switch``: each command against a real sandbox database and bot, as an operator runs it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from ops_checks.access.config import Target
from ops_checks.access.db import connect
from ops_checks.cli.app import app
from ops_checks.sandbox import postgres
from ops_checks.sandbox.environment import Sandbox

runner = CliRunner()


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
def env(sb: Sandbox) -> dict[str, str]:
    sb.admin("UPDATE system_settings SET circuit_breaker_active = FALSE, circuit_breaker_reason = NULL WHERE id = 1")
    time.sleep(0.2)
    # no VALR credentials: the CLI must never reach the real api.valr.com from a test
    return {k: v for k, v in sb.env.items() if not k.startswith("VALR_API")}


def events(t: Target) -> list[dict[str, object]]:
    """circuit_breaker_events (no operator column in the real schema) with who did it from ops_operator_actions."""
    with connect(t.db, t.redactor) as db:
        rows = db.rows("SELECT event_type, trigger_reason FROM circuit_breaker_events ORDER BY id")
        who = db.one("SELECT operator FROM opscheck.ops_operator_actions ORDER BY id DESC LIMIT 1")
    if rows:
        rows[-1]["operator"] = who["operator"] if who else None
    return rows


def run(args: list[str], env: dict[str, str]):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["kill-switch", *args], env=env)


def test_status_reads_only(sb: Sandbox, env: dict[str, str]) -> None:
    assert sb.target is not None
    before = len(events(sb.target))
    out = run(["status"], env)
    assert out.exit_code == 0 and "kill switch: INACTIVE" in out.output
    assert len(events(sb.target)) == before


def test_activate_is_always_allowed_and_recorded(sb: Sandbox, env: dict[str, str]) -> None:
    assert sb.target is not None
    out = run(["activate", "--reason", "EMERGENCY_L1", "--operator", "alice"], env)
    assert out.exit_code == 0, out.output
    assert "kill switch: ACTIVE (reason EMERGENCY_L1" in out.output
    last = events(sb.target)[-1]
    assert last["event_type"] == "MANUAL_LOCK" and last["operator"] == "alice"
    assert "EMERGENCY_L1" in str(last["trigger_reason"])


def test_deactivate_needs_allow_mutations(sb: Sandbox, env: dict[str, str]) -> None:
    assert sb.target is not None
    run(["activate", "--reason", "TEST"], env)
    refused = run(["deactivate"], env)
    assert refused.exit_code == 2 and "--allow-mutations" in refused.output
    done = run(["deactivate", "--allow-mutations", "--operator", "bob"], env)
    assert done.exit_code == 0 and "kill switch: INACTIVE" in done.output
    assert events(sb.target)[-1]["event_type"] == "MANUAL_UNLOCK"
    assert events(sb.target)[-1]["operator"] == "bob"


def test_status_names_the_bots_other_switches(sb: Sandbox, env: dict[str, str]) -> None:
    sb.admin("UPDATE system_settings SET system_active = FALSE, kill_switch_reason = 'DISPATCH_HALT' WHERE id = 1")
    try:
        out = run(["status"], env)
    finally:
        sb.admin("UPDATE system_settings SET system_active = TRUE, kill_switch_reason = NULL WHERE id = 1")
    assert out.exit_code == 0 and "kill switch: INACTIVE; also system_active=FALSE" in out.output
    assert "DISPATCH_HALT" in out.output


def test_method_2_missing_on_the_bot_names_both_sides(sb: Sandbox, env: dict[str, str]) -> None:
    out = run(["activate", "--reason", "X", "--via", "api"], dict(env, BOT_GUARDIAN_PATH="/api/nothing"))
    assert out.exit_code == 1
    assert "runbook §4.2 Method 2 POST /api/nothing → HTTP 404; the bot has GET /guardian/status" in out.output
    assert "use --via sql" in out.output


def test_guardian_api_channel(sb: Sandbox, env: dict[str, str]) -> None:
    out = run(["activate", "--reason", "VIA_API", "--via", "api"], env)
    assert out.exit_code == 0 and "ACTIVE (reason VIA_API" in out.output
    bad = run(
        ["activate", "--reason", "X", "--via", "api"], dict(env, SOVEREIGN_SECRET="wrong-secret-0123456789abcdefghijkl")
    )
    assert bad.exit_code == 1 and "HTTP 401" in bad.output
    assert "wrong-secret" not in bad.output


def test_verify_runs_the_procedure(sb: Sandbox, env: dict[str, str]) -> None:
    refused = run(["verify"], env)
    assert refused.exit_code == 2
    out = run(["verify", "--allow-mutations"], env)
    assert out.exit_code == 0, out.output
    for item in ("4.4.1", "4.4.2", "4.4.3", "4.5.1", "4.4.4", "4.4.5", "4.4.6"):
        assert f"PASSED       {item}" in out.output
    assert "response time:" in out.output and "kill switch: INACTIVE" in out.output
    for name in ("SOVEREIGN_SECRET", "WEBHOOK_SECRET", "DB_PASSWORD"):
        assert env[name] not in out.output and env[name][:8] not in out.output


def test_unreachable_database_is_one_line(env: dict[str, str]) -> None:
    out = run(["status"], dict(env, DB_PORT=str(postgres.free_port())))  # cannot run: README "Exit codes"
    assert out.exit_code == 2 and out.stdout == "" and out.stderr.count("\n") == 1
    assert out.stderr.startswith("opscheck kill-switch status: cannot run: cannot connect to ")


@pytest.mark.parametrize("sig_name", ["SIGTERM", "SIGHUP"])
def test_a_signal_after_activation_says_what_it_leaves(
    sb: Sandbox,
    env: dict[str, str],
    tmp_path,  # type: ignore[no-untyped-def]
    sig_name: str,
) -> None:
    """Issue 13 §1: SIGTERM to `kill-switch verify` after activation used to end it silently (rc -15)."""
    import signal
    import subprocess
    import sys

    from tests.preflight_runner import REPO

    assert sb.bot is not None and sb.target is not None
    sb.bot.knobs.ignore_kill_switch = True  # the HALT never comes: the flow waits, the switch is ACTIVE
    env_file = tmp_path / "live.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items() if "\n" not in v))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ops_checks.cli",
            "kill-switch",
            "verify",
            "--allow-mutations",
            "--env-file",
            str(env_file),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    try:
        deadline = time.monotonic() + 60
        active = False
        while time.monotonic() < deadline and not active and proc.poll() is None:
            with connect(sb.target.db, sb.target.redactor) as db:
                row = db.one("SELECT circuit_breaker_active FROM system_settings WHERE id = 1")
            active = bool(row and row["circuit_breaker_active"])
            time.sleep(0.05)
        assert active, "the verification never activated the switch"
        sig = getattr(signal, sig_name)
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        sb.bot.knobs.ignore_kill_switch = False
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, out
    assert f"INTERRUPTED by {sig_name}" in out and "kill switch: ACTIVE" in out, out
    assert "Traceback" not in out


def test_the_preflights_section_4_flow_leaves_an_operators_concurrent_activation_active(
    sb: Sandbox,
    env: dict[str, str],
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 21 §1: while the live preflight's §4 flow holds the switch, operator B runs `opscheck kill-switch
    activate`. B is told ACTIVE (exit 0); the preflight fails 4.4.5, names B, and the switch ends ACTIVE with B's
    reason."""
    import os
    import threading

    from ops_checks.access import kill_switch_state
    from tests.preflight_runner import preflight

    assert sb.target is not None
    t = sb.target
    env_file = tmp_path / "live.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items() if "\n" not in v))
    answers: list[object] = []

    def operator_b() -> None:
        end = time.monotonic() + 120
        with connect(t.db, t.redactor) as db:
            while time.monotonic() < end:
                if kill_switch_state.is_suite_hold(kill_switch_state.read_state(db).reason):
                    args = ["activate", "--reason", "EMERGENCY_OPERATOR_B", "--operator", "operator-b"]
                    answers.append(run(args, env))
                    return
                time.sleep(0.003)

    watcher = threading.Thread(target=operator_b, daemon=True)
    watcher.start()
    child_env = {k: v for k, v in os.environ.items() if k not in env and not k.startswith("OPSCHECK_")}
    done = preflight(
        tmp_path / "reports",
        "--target",
        "live",
        "--env-file",
        str(env_file),
        "--allow-mutations",
        "-m",
        "section_4_4",
        env=child_env,
    )
    watcher.join(30)
    assert answers, done.output[-3000:]
    told = answers[0]
    assert told.exit_code == 0 and "kill switch: ACTIVE" in told.output, told.output  # type: ignore[attr-defined]
    by_id = {i["id"]: i for i in (done.verdict or {}).get("items", [])}
    assert by_id, done.output[-3000:]
    assert by_id["4.4.5"]["status"] == "failed", by_id["4.4.5"]
    assert "operator-b" in by_id["4.4.5"]["reason"] and "EMERGENCY_OPERATOR_B" in by_id["4.4.5"]["reason"]
    assert done.exit_code != 0
    with connect(t.db, t.redactor) as db:
        after = kill_switch_state.read_state(db)
    assert after.active and after.reason == "EMERGENCY_OPERATOR_B"


@pytest.mark.parametrize("command", ["preflight", "verify"])
def test_two_ctrl_c_while_the_database_holds_a_lock_still_end_with_the_state_line(
    sb: Sandbox,
    env: dict[str, str],
    tmp_path,
    command: str,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 21 §2: from the activation on, another session holds LOCK TABLE system_settings IN ACCESS EXCLUSIVE
    MODE; the operator presses Ctrl-C twice. The last line still names the kill-switch state (UNKNOWN with the
    reason and the SQL to check by hand), never "not touched"; the switch is left ACTIVE."""
    import os
    import signal
    import subprocess
    import sys

    import psycopg

    from ops_checks.access import kill_switch_state
    from tests.preflight_runner import REPO

    assert sb.target is not None and sb.db is not None
    t = sb.target
    env_file = tmp_path / "live.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items() if "\n" not in v))
    args = ["--env-file", str(env_file), "--allow-mutations"]
    argv = (
        ["preflight", "--target", "live", "--reports", str(tmp_path / "r"), "-m", "section_4_4", *args]
        if command == "preflight"
        else ["kill-switch", "verify", *args]
    )
    child_env = {k: v for k, v in os.environ.items() if k not in env and not k.startswith("OPSCHECK_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "ops_checks.cli", *argv],
        cwd=REPO,
        env=child_env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    with psycopg.connect(sb.db.admin_db_dsn) as locker:
        try:
            end = time.monotonic() + 120
            held = False
            with connect(t.db, t.redactor) as db:
                while time.monotonic() < end and proc.poll() is None and not held:
                    held = kill_switch_state.is_suite_hold(kill_switch_state.read_state(db).reason)
                    time.sleep(0.003)
            assert held, "the verification never activated the switch"
            locker.execute("LOCK TABLE system_settings IN ACCESS EXCLUSIVE MODE")
            proc.send_signal(signal.SIGINT)
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
            locker.rollback()
    assert proc.returncode == 130, out
    assert "Traceback" not in out and "not touched" not in out, out
    last = [line for line in out.splitlines() if line.strip()][-1]
    assert last.startswith("kill switch: "), out
    if "UNKNOWN" in last:
        assert "lock" in last and kill_switch_state.CHECK_BY_HAND in last, last
    else:
        assert last.startswith("kill switch: ACTIVE"), last
    with connect(t.db, t.redactor) as db:
        assert kill_switch_state.read_state(db).active


def test_a_live_run_whose_verification_leaves_the_switch_active_names_one_cause(
    server: postgres.Server,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """Issue 22: as the compose file's superuser, 4.4.2 rightly leaves the kill switch ACTIVE (the bot's row-hash
    defect: compute_row_hash rejects circuit_breaker_events). §6.1/§6.4 on live then find it ACTIVE with no incident
    on record: they rest on 4.4.2, so the NO-GO names one cause, not fifteen."""
    import os

    from ops_checks.drills import base as drill_base
    from ops_checks.sandbox.faults import apply as apply_faults
    from tests.preflight_runner import preflight

    with drill_base.disposable(server) as box:
        apply_faults(box, ["row_hash_rejects_circuit_breaker_events"])
        live = {k: v for k, v in box.env.items() if not k.startswith("VALR_API")}
        env_file = tmp_path / "live.env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in live.items() if "\n" not in v))
        child_env = {k: v for k, v in os.environ.items() if k not in live and not k.startswith("OPSCHECK_")}
        done = preflight(
            tmp_path / "reports",
            "--no-html",
            "--target",
            "live",
            "--env-file",
            str(env_file),
            "--allow-mutations",
            "-m",
            "section_4_4 or section_6_1 or section_6_4",
            env=child_env,
        )
    assert done.verdict is not None, done.output[-3000:]
    by_id = {i["id"]: i for i in done.verdict["items"]}
    assert by_id["4.4.2"]["status"] == "failed" and "LEFT ACTIVE" in by_id["4.4.2"]["reason"], by_id["4.4.2"]
    section_6 = [i for i in by_id if i.startswith(("6.1.", "6.4."))]
    assert len(section_6) == 14
    for item in section_6:
        assert by_id[item]["status"] == "failed" and by_id[item]["blocked_by"] == ["4.4.2"], by_id[item]
        assert "no incident is on record" in by_id[item]["reason"]
    summary = [(c["roots"], c["items"], c["summary"]) for c in done.verdict["causes"]]
    assert len(done.verdict["causes"]) == 1, summary
    (cause,) = done.verdict["causes"]
    open_items = sorted(i for i, row in by_id.items() if row["status"] in ("failed", "error", "not_verified"))
    assert cause["roots"] == ["4.4.2"] and sorted(cause["items"]) == open_items, summary
