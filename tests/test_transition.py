"""§3 transition: env editing, the §3.1 gate, and the procedure with its §3.4 rollback on a real sandbox."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ops_checks.access.db import connect
from ops_checks.checks.s3_transition import transition_audit, transition_gate
from ops_checks.cli.app import app
from ops_checks.core.envfile import read_env_file
from ops_checks.drills import base as drill_base
from ops_checks.drills import transition_drill
from ops_checks.procedures import backup, env_edit, transition
from ops_checks.sandbox import postgres
from ops_checks.sandbox.compose import SandboxServices
from ops_checks.sandbox.environment import Sandbox
from ops_checks.verdict import verdict

TRICKY = (
    "\ufeff# bot settings\r\n"
    "\r\n"
    "export EXECUTION_MODE = DRY_RUN   # the mode\r\n"
    "# LIVE_TRADING_CONFIRMED=TRUE  (commented out)\r\n"
    'KILL_SWITCH_ENABLED="true"\r\n'
    "PASSWORD='p@ss \"with\" $dollar # not a comment'\r\n"
    'MULTI="line one\r\nline two # still value"\r\n'
    "EMPTY=\r\n"
    'ESCAPED="tab\\there"\r\n'
)


def test_env_edit_keeps_comments_order_quoting_and_line_ends() -> None:
    before = env_edit.edit_text(TRICKY, {})
    assert before == TRICKY
    after = env_edit.edit_text(TRICKY, {"EXECUTION_MODE": "LIVE", "LIVE_TRADING_CONFIRMED": "TRUE"})
    lines = after.split("\r\n")
    assert lines[0] == "\ufeff# bot settings"
    assert lines[2] == "export EXECUTION_MODE = LIVE   # the mode"
    assert lines[3] == "LIVE_TRADING_CONFIRMED=TRUE"  # uncommented in its place, not appended
    assert after.replace("LIVE   #", "DRY_RUN   #").replace("LIVE_TRADING_CONFIRMED=TRUE\r\n", "") == TRICKY.replace(
        "# LIVE_TRADING_CONFIRMED=TRUE  (commented out)\r\n", ""
    )
    from ops_checks.core.envfile import parse

    old, new = parse(TRICKY), parse(after)
    assert {k: v for k, v in new.items() if k not in ("EXECUTION_MODE", "LIVE_TRADING_CONFIRMED")} == {
        k: v for k, v in old.items() if k != "EXECUTION_MODE"
    }
    back = env_edit.edit_text(after, {"EXECUTION_MODE": "DRY_RUN", "LIVE_TRADING_CONFIRMED": None})
    assert "# LIVE_TRADING_CONFIRMED=TRUE" in back and parse(back).get("LIVE_TRADING_CONFIRMED") is None


def test_env_edit_appends_missing_and_refuses_broken_files(tmp_path: Path) -> None:
    assert env_edit.edit_text("A=1", {"B": "x y"}) == 'A=1\nB="x y"\n'
    with pytest.raises(env_edit.EnvEditError) as err:
        env_edit.edit_text(
            "EXECUTION_MODE=DRY_RUN\nSECRET=hunter2\nEXECUTION_MODE=DRY_RUN\n", {"EXECUTION_MODE": "LIVE"}
        )
    assert "hunter2" not in str(err.value) and "line 3" in str(err.value)
    path = tmp_path / ".env"
    path.write_text(TRICKY, encoding="utf-8", newline="")
    inode = path.stat().st_ino
    os.chmod(path, 0o640)
    assert env_edit.edit_file(path, {"EXECUTION_MODE": "LIVE"}) == ["EXECUTION_MODE"]
    assert path.stat().st_ino == inode and path.stat().st_mode & 0o777 == 0o640  # in place
    assert read_env_file(path)["EXECUTION_MODE"] == "LIVE"


def _verdict(
    tmp: Path,
    *,
    minutes_ago: float = 1,
    operator: str = "ann",
    witness: str = "bob",
    drop: tuple[str, ...] = (),
    failed: tuple[str, ...] = (),
    target: str = "sandbox",
) -> transition_gate.Preflight:
    ids = set(transition_gate.S1_BLOCKERS + transition_gate.S2_BLOCKERS + transition_gate.KILL_SWITCH_ITEMS)
    ids |= {"1.6.4", "1.2.4", "1.3.1"}
    items = [
        verdict.outcome(i, verdict.FAILED if i in failed else verdict.PASSED) for i in sorted(ids) if i not in drop
    ]
    end = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    data = verdict.build(items, target=target, started_at=end, finished_at=end, operator=operator, witness=witness)
    run = tmp / f"run-{minutes_ago}-{len(drop)}-{len(failed)}-{operator}"
    verdict.write(run, data)
    return transition_gate.load(run)


def test_gate_requirements(tmp_path: Path) -> None:
    ok = transition_gate.evaluate(_verdict(tmp_path), target="sandbox", operator="ann", witness="bob")
    assert all(r.ok for r in ok.values()) and transition_gate.refusal(ok, _verdict(tmp_path)) is None
    stale = transition_gate.evaluate(_verdict(tmp_path, minutes_ago=31), target="sandbox", operator="a", witness="b")
    assert not any(r.ok for r in stale.values()) and "31 min old" in stale["3.1.1"].reason
    other = transition_gate.evaluate(_verdict(tmp_path, target="live"), target="sandbox", operator="a", witness="b")
    assert not other["3.1.4"].ok
    same = transition_gate.evaluate(_verdict(tmp_path), target="sandbox", operator="Ann", witness=" ann")
    assert [k for k, r in same.items() if not r.ok] == ["3.1.6"]
    no_ks = transition_gate.evaluate(
        _verdict(tmp_path, drop=("4.4.3", "1.3.1")), target="sandbox", operator="a", witness="b"
    )
    assert [k for k, r in no_ks.items() if not r.ok] == ["3.1.4"]
    ks_via_131 = transition_gate.evaluate(
        _verdict(tmp_path, drop=("4.4.3",)), target="sandbox", operator="a", witness="b"
    )
    assert all(r.ok for r in ks_via_131.values())
    short = _verdict(tmp_path, failed=("1.6.4",))
    res = transition_gate.evaluate(short, target="sandbox", operator="a", witness="b")
    assert [k for k, r in res.items() if not r.ok] == ["3.1.1"]
    assert "NO-GO" in (transition_gate.refusal(res, short) or "")
    unsigned = transition_gate.evaluate(_verdict(tmp_path, witness="ann"), target="sandbox", operator="a", witness="b")
    assert not unsigned["3.1.6"].ok


# ---------------------------------------------------------------------------------------------------- sandbox
@pytest.fixture()
def sb(server: postgres.Server) -> Iterator[Sandbox]:
    with drill_base.disposable(server) as box:
        transition_drill.write_env_file(box, box.workdir / ".env")
        yield box


def _opts(
    sb: Sandbox, tmp: Path, pf: transition_gate.Preflight | None, to: str = "LIVE", **kw: object
) -> transition.Options:
    env_file = sb.workdir / ".env"
    base: dict[str, object] = dict(
        to=to,
        operator="ann",
        witness="bob",
        env_file=env_file,
        backup_root=tmp / "bk",
        record_dir=tmp / "rec",
        services=SandboxServices(sb, env_file),
        confirm=lambda q: True,
        preflight=pf,
        start_timeout_s=3.0,
        use_pg_dump=False,
    )
    base.update(kw)
    return transition.Options(**base)  # type: ignore[arg-type]


def _rows(sb: Sandbox, action: str) -> list[dict[str, object]]:
    """The transition trail: opscheck.ops_operator_actions (the bot's policy_decision_audit refuses these rows)."""
    assert sb.target is not None
    with connect(sb.target.db, sb.target.redactor) as db:
        return db.rows(
            "SELECT correlation_id, detail AS context_snapshot, operator, witness FROM opscheck.ops_operator_actions"
            " WHERE action = %s",
            (action,),
        )


def _mode(sb: Sandbox) -> str:
    """The bot's mode: its env file's EXECUTION_MODE, agreeing with what the reference bot reports."""
    assert sb.target is not None
    mode = transition_gate.execution_mode(sb.target, read_env_file(sb.workdir / ".env"))
    return str(mode.value or mode.reason)


def test_transition_to_live_and_back(sb: Sandbox, tmp_path: Path) -> None:
    assert sb.target is not None and sb.valr is not None
    pf = _verdict(tmp_path)
    tr = transition.run(sb.target, _opts(sb, tmp_path, pf))
    assert tr.ok, tr.markdown()
    assert _mode(sb) == "LIVE" and len(sb.valr.orders) == 1
    assert [r["witness"] for r in _rows(sb, "TRANSITION")] == ["bob"]
    assert _rows(sb, "TRANSITION")[0]["context_snapshot"]["reason_code"] == "DRY_RUN_TO_LIVE"  # type: ignore[index]
    assert "ZAR balance from VALR" in tr.step(6).detail
    done = _rows(sb, "TRANSITION_COMPLETE")[0]["context_snapshot"]
    assert done["first_trade_verified"] is True and len(done["checklist"]) == 9  # type: ignore[index]
    record = json.loads(tr.record_files[0].read_text())
    assert [s["verified_by"] for s in record["checklist"]] and all(s["at"] for s in record["checklist"])
    assert (
        backup.verify(
            backup.Backup(
                Path(tr.backup_dir),
                Path(tr.backup_dir) / ".env.backup",
                backup.sha256_file(Path(tr.backup_dir) / ".env.backup"),
                "copy",
            )
        )
        == []
    )
    live_items = [f"3.1.{n}" for n in range(1, 7)] + list(transition.ITEMS)
    sb.env["EXECUTION_MODE"] = "LIVE"  # the live view reads the operator's env (the real bot reports no mode)
    assert [i for i in live_items if not transition_audit.check(sb.target, i).ok] == []  # the live audit-trail view
    sb.env["EXECUTION_MODE"] = "DRY_RUN"
    back = transition.run(sb.target, _opts(sb, tmp_path, None, to="DRY_RUN"))
    assert back.ok, back.markdown()
    assert _mode(sb) == "DRY_RUN" and len(sb.valr.orders) == 1  # the DRY_RUN test signal never reached VALR
    assert read_env_file(sb.workdir / ".env").get("LIVE_TRADING_CONFIRMED") is None


@pytest.mark.parametrize(
    ("knob", "failed_step"),
    [
        ({"bot": {"live_start_fails": True}}, 7),
        ({"bot": {"reported_execution_mode": "DRY_RUN"}}, 8),
        ({"valr": {"fail": {"/v1/orders/market": 400}}}, 9),
    ],
    ids=["bot-not-up-in-live", "bot-stays-dry-run", "exchange-rejects-test-order"],
)
def test_failure_rolls_back_to_dry_run_byte_for_byte(
    sb: Sandbox, tmp_path: Path, knob: dict[str, dict[str, object]], failed_step: int
) -> None:
    assert sb.target is not None and sb.bot is not None
    original = (sb.workdir / ".env").read_bytes()
    for component, values in knob.items():
        obj = sb.bot.knobs if component == "bot" else sb.valr
        for k, v in values.items():
            setattr(obj, k, v)
    tr = transition.run(sb.target, _opts(sb, tmp_path, _verdict(tmp_path)))
    assert not tr.ok and tr.step(failed_step).status == transition.FAILED
    assert all(s.status == transition.NOT_REACHED for s in tr.steps[failed_step:])
    assert tr.rollback_ok is True, tr.rollback
    assert (sb.workdir / ".env").read_bytes() == original
    sb.bot.knobs.reported_execution_mode = None
    assert _mode(sb) == "DRY_RUN"
    rollback = _rows(sb, "ROLLBACK")
    assert len(rollback) == 1 and rollback[0]["context_snapshot"]["failed_step"] == f"3.3.{failed_step}"  # type: ignore[index]
    assert "rolled back" in tr.result(f"3.3.{failed_step}").reason


def test_refusals_leave_everything_untouched(sb: Sandbox, tmp_path: Path) -> None:
    assert sb.target is not None
    original = (sb.workdir / ".env").read_bytes()
    cases = {
        "stale": _opts(sb, tmp_path, _verdict(tmp_path, minutes_ago=45)),
        "failed preflight": _opts(sb, tmp_path, _verdict(tmp_path, failed=("4.4.3", "1.3.1"))),
        "same person": _opts(sb, tmp_path, _verdict(tmp_path), witness="ANN"),
        "no preflight": _opts(sb, tmp_path, None),
        "witness says no": _opts(sb, tmp_path, _verdict(tmp_path), confirm=lambda q: False),
    }
    for name, opts in cases.items():
        tr = transition.run(sb.target, opts)
        assert tr.refused and not tr.ok, name
        assert not tr.result("3.3.1").ok
    assert (sb.workdir / ".env").read_bytes() == original
    assert _rows(sb, "TRANSITION") == [] and _mode(sb) == "DRY_RUN"


def test_backup_with_pg_dump_when_present(sb: Sandbox, tmp_path: Path) -> None:
    assert sb.target is not None
    b = backup.create(sb.target, sb.workdir / ".env", tmp_path, "pre_live", use_pg_dump=True)
    if b.db_method == "pg_dump":
        assert "CREATE TABLE" in (b.dir / "db_backup.sql").read_text()
    else:  # pg_dump missing or incompatible: the COPY dump stands in, and says why
        assert b.notes and (b.dir / "db" / "system_settings.csv").exists()
    assert backup.verify(b) == [] and (b.dir / backup.MANIFEST).read_text().count("\n") == len(b.files)
    assert oct(b.env_copy.stat().st_mode & 0o777) == "0o600"


def test_cli_refuses_yes_on_live_and_one_person(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("EXECUTION_MODE=DRY_RUN\n")
    runner = CliRunner()
    r = runner.invoke(
        app, ["transition", "--to", "LIVE", "--operator", "a", "--witness", "b", "--env-file", str(env), "--yes"]
    )
    assert r.exit_code == 2 and "--yes" in r.output
    r = runner.invoke(app, ["transition", "--to", "LIVE", "--operator", "a", "--witness", "A", "--env-file", str(env)])
    assert r.exit_code == 1 and "two different people" in r.output
    r = runner.invoke(
        app,
        [
            "transition",
            "--to",
            "LIVE",
            "--operator",
            "a",
            "--witness",
            "b",
            "--env-file",
            str(env),
            "--reports",
            str(tmp_path / "none"),
        ],
    )
    assert r.exit_code == 1 and "no preflight" in r.output


def test_live_audit_trail_checks(sb: Sandbox) -> None:
    """On live, §3 items read the audit trail: nothing to audit in DRY_RUN; a LIVE bot without a trail fails; a
    mode the suite does not understand, or an env and a bot that disagree, fail closed."""
    assert sb.target is not None and sb.bot is not None
    assert transition_audit.check(sb.target, "3.3.1").ok  # DRY_RUN, never transitioned
    sb.bot.knobs.reported_execution_mode = "LIVE"
    assert "the bot reports LIVE" in transition_audit.check(sb.target, "3.3.9").reason  # env DRY_RUN
    sb.env["EXECUTION_MODE"] = "LIVE"
    result = transition_audit.check(sb.target, "3.3.9")
    assert not result.ok and "no TRANSITION_COMPLETE" in result.reason
    sb.bot.knobs.health_endpoint_ok = False  # the real bot's case: no mode over HTTP, the env file decides
    assert "no TRANSITION_COMPLETE" in transition_audit.check(sb.target, "3.3.9").reason
    for odd in ("live", "NaN", "", " LIVE"):
        sb.env["EXECUTION_MODE"] = odd
        result = transition_audit.check(sb.target, "3.1.6")
        assert not result.ok and "not exactly LIVE or DRY_RUN" in result.reason, odd
    sb.env["EXECUTION_MODE"] = "DRY_RUN"
    sb.bot.knobs.health_endpoint_ok = True
    sb.bot.knobs.reported_execution_mode = "nan"
    assert "not exactly LIVE or DRY_RUN" in transition_audit.check(sb.target, "3.1.1").reason


def test_refused_without_the_suite_schema(sb: Sandbox, tmp_path: Path) -> None:
    """No opscheck.ops_operator_actions: the trail has nowhere to go, so nothing is touched (never a kill switch)."""
    assert sb.target is not None
    original = (sb.workdir / ".env").read_bytes()
    sb.admin("ALTER TABLE opscheck.ops_operator_actions RENAME TO ops_operator_actions_gone")
    tr = transition.run(sb.target, _opts(sb, tmp_path, _verdict(tmp_path)))
    assert "the suite's schema is missing" in tr.refused and tr.rollback == []
    assert (sb.workdir / ".env").read_bytes() == original and _mode(sb) == "DRY_RUN"
    assert "opscheck init" in transition_audit.check(sb.target, "3.3.1").reason
