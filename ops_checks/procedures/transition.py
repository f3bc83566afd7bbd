"""Runbook §3.2 DRY_RUN → LIVE transition (and back), with the §3.3 checklist as its record and §3.4 rollback.

``run(t, opts)`` walks the ten steps of §3.2 once, in order. Each step is done and then verified; manual steps
(stopping and starting services on live, the real test order) are confirmed by the operator through
``opts.confirm``. Every step is recorded with who verified it and when (items 3.3.1–3.3.10). Any failure ends the
procedure and runs §3.4 automatically: stop, restore the env file byte for byte from the backup, verify DRY_RUN,
start, prove the bot is back in DRY_RUN, write the ROLLBACK row; if the rollback itself fails, the kill switch is
activated (the safe direction) and the operator is told.

``--to DRY_RUN`` runs the same ten steps the other way (no preflight needed: it is the safe direction); the P&L
reset does not apply and the last row is §3.4's ROLLBACK/LIVE_TO_DRY_RUN. If that fails, the kill switch is
activated rather than anything being restored to LIVE.

The procedure holds a Postgres advisory lock, so two transitions never overlap. Env values are never printed.

Where the runbook and the real bot (TRADE_BOT v1.9.0) disagree, the procedure follows the bot:
- Steps 1 and 10 and §3.4 Step 5: the runbook's ``policy_decision_audit`` rows (``policy_decision`` TRANSITION /
  TRANSITION_COMPLETE / ROLLBACK, a text correlation id) are refused by the bot's schema (ALLOW/NEUTRAL/HALT, uuid);
  they are recorded in ``opscheck.ops_operator_actions`` (action, detail with ``reason_code``, operator, witness).
- Step 6: ``valr_balances`` does not exist; the ZAR balance is read from the exchange (VALR ``/v1/account/balances``).
- Step 8: the bot reports no mode over HTTP; the mode is the env file's, cross-checked with any mode the bot
  reports (``transition_gate.execution_mode``), plus the runbook's log lines.
- Step 9: the bot's TradingView webhook (``ops_checks.access.webhook_signal``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, Protocol

from psycopg.types.json import Jsonb

from ops_checks.access import kill_switch_state, suite_tables
from ops_checks.access import webhook_signal as signal_mod
from ops_checks.access.config import Target
from ops_checks.access.db import Db, DbError, connect
from ops_checks.access.valr.client import ValrClient, ValrError
from ops_checks.checks import givens
from ops_checks.checks.s1_preconditions import logs
from ops_checks.checks.s3_transition import transition_gate
from ops_checks.core.envfile import ConfigError, read_env_file
from ops_checks.core.http import HttpError, Recorder
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, passed
from ops_checks.procedures import backup as backup_mod
from ops_checks.procedures import env_edit
from ops_checks.procedures.sequence import StepFailed, StepRun, one_line

LOCK_KEY = 0x0B5C3302  # no two transitions at once
MODES = ("LIVE", "DRY_RUN")
ACTIONS = (
    "Audit record created",
    "Services stopped",
    "Backup created",
    "Environment updated",
    "Configuration verified",
    "Daily P&L reset",
    "Services started",
    "LIVE mode verified",
    "Test signal successful",
    "Transition complete",
)
ITEMS = tuple(f"3.3.{n}" for n in range(1, 11))
MANUAL = {2, 7}  # docker-compose down / up: done by the operator on live, by the sandbox's service runner in tests
PASSED, FAILED, NOT_REACHED, NOT_APPLICABLE = "passed", "FAILED", "not reached", "not applicable"

Confirm = Callable[[str], bool]


class Services(Protocol):
    """How the bot's services are stopped and started (docker-compose on live, the sandbox's runner in tests)."""

    manual: bool

    def stop(self) -> list[str]: ...

    def start(self) -> list[str]: ...


@dataclass
class Options:
    to: str
    operator: str
    witness: str
    env_file: Path
    backup_root: Path
    record_dir: Path
    services: Services
    confirm: Confirm
    preflight: transition_gate.Preflight | None = None
    max_preflight_age_min: float = transition_gate.DEFAULT_MAX_AGE_MIN
    test_symbol: str = "BTCZAR"
    test_quantity: Decimal = Decimal("0.0001")
    start_timeout_s: float = 60.0
    use_pg_dump: bool = True


@dataclass
class Step:
    number: int
    action: str
    status: str = NOT_REACHED
    verified_by: str = ""
    at: str = ""
    detail: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    cause: Cause | None = None  # what made the step fail, when it is a problem of its own (a grant, a table)

    @property
    def item(self) -> str:
        return f"3.3.{self.number}"


@dataclass
class Transition:
    id: str
    to: str
    operator: str
    witness: str
    target: str
    started_at: str
    steps: list[Step]
    gate: dict[str, CheckResult] = field(default_factory=dict)
    refused: str = ""
    finished_at: str = ""
    rollback: list[str] = field(default_factory=list)
    rollback_ok: bool | None = None
    backup_dir: str = ""
    record_files: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused and all(s.status in (PASSED, NOT_APPLICABLE) for s in self.steps)

    def step(self, number: int) -> Step:
        return self.steps[number - 1]

    def result(self, item: str) -> CheckResult:
        """The §3.3 row as a CheckResult (items 3.3.1–3.3.10), with the whole record attached."""
        s = self.step(int(item.rsplit(".", 1)[1]))
        ev = [*s.evidence, Evidence("§3.3 transition checklist", self.markdown(), "text/markdown")]
        if self.refused:
            return failed("refused", s.action, f"transition refused before step 1: {self.refused}", *ev)
        if s.status in (PASSED, NOT_APPLICABLE):
            return passed(s.status, s.action, f"{s.action}: {s.detail} (verified by {s.verified_by}, {s.at})", *ev)
        if s.status == NOT_REACHED:
            return failed(NOT_REACHED, s.action, f"not reached: the transition stopped earlier{self._rb()}", *ev)
        return failed(s.status, s.action, f"{s.action} failed: {s.detail}{self._rb()}", *ev, cause=s.cause)

    def _rb(self) -> str:
        if self.rollback_ok is None:
            return ""
        return "; rolled back to DRY_RUN" if self.rollback_ok else "; ROLLBACK INCOMPLETE (kill switch activated)"

    def markdown(self) -> str:
        lines = [
            f"# Transition {self.id}: to {self.to} ({self.target})",
            "",
            f"Operator: {self.operator}  ",
            f"Witness: {self.witness}  ",
            f"Started: {self.started_at}  ",
            f"Finished: {self.finished_at}  ",
            f"Outcome: {'COMPLETE' if self.ok else 'REFUSED: ' + self.refused if self.refused else 'FAILED'}",
            "",
            "| Step | Action | Verified By | Timestamp | ✓ | Detail |",
            "|------|--------|-------------|-----------|---|--------|",
        ]
        for s in self.steps:
            mark = "☑" if s.status in (PASSED, NOT_APPLICABLE) else ("☒" if s.status == FAILED else "☐")
            lines.append(f"| {s.number} | {s.action} | {s.verified_by} | {s.at} | {mark} | {s.status}: {s.detail} |")
        if self.gate:
            lines += ["", "## §3.1 pre-transition requirements", ""]
            lines += [f"- {k}: {'met' if r.ok else 'NOT MET'} — {r.summary()}" for k, r in self.gate.items()]
        if self.rollback:
            lines += ["", "## §3.4 rollback", ""] + [f"- {r}" for r in self.rollback]
        if self.backup_dir:
            lines += ["", f"Backup: {self.backup_dir}"]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "to": self.to,
            "target": self.target,
            "operator": self.operator,
            "witness": self.witness,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "ok": self.ok,
            "refused": self.refused,
            "gate": {k: {"met": r.ok, "reason": r.summary()} for k, r in self.gate.items()},
            "checklist": [
                {
                    "item": s.item,
                    "step": s.number,
                    "action": s.action,
                    "status": s.status,
                    "verified_by": s.verified_by,
                    "at": s.at,
                    "detail": s.detail,
                }
                for s in self.steps
            ],
            "rollback": self.rollback,
            "rollback_ok": self.rollback_ok,
            "backup_dir": self.backup_dir,
        }


TRAIL_TABLE = "ops_operator_actions"
#: what each step needs of a table it writes or reads, for the GRANT a refusal asks for
STEP_PRIVILEGE = {1: "INSERT", 3: "SELECT", 6: "UPDATE", 10: "INSERT"}
_DENIED = re.compile(r'permission denied for (?:table|relation) "?([\w.]+)"?')


def step_cause(t: Target, number: int, exc: Exception) -> Cause | None:
    """The cause of a step's database error when it is a problem of its own, with its remedy: the role lacks a
    grant on a table (the GRANT), or the suite's trail table refuses the row (its constraints); else None."""
    text = str(exc)
    denied = _DENIED.search(text)
    if denied:
        return givens.table_cause(t, denied.group(1), text, STEP_PRIVILEGE.get(number, "SELECT"))
    if isinstance(exc, DbError) and "violates check constraint" in text and TRAIL_TABLE in text:
        return Cause(
            "database_error",
            f"opscheck.{TRAIL_TABLE}",
            f"the transition trail opscheck.{TRAIL_TABLE} refuses the transition's rows: {one_line(text)}",
            f"inspect the table's constraints (psql: \\d opscheck.{TRAIL_TABLE}) and drop any not created by "
            "opscheck init, then re-run",
        )
    return None


def record_action(db: Db, action: str, detail: dict[str, Any], operator: str, witness: str | None) -> dict[str, Any]:
    """Append one row of the transition trail to ``opscheck.ops_operator_actions`` and read it back in the shape
    of the trail (``policy_decision`` = action, ``reason_code`` from the detail). Raises DbError; a missing suite
    schema raises with the not-installed reason."""
    try:
        row = db.one(
            "INSERT INTO opscheck.ops_operator_actions (action, detail, operator, witness) VALUES (%s, %s, %s, %s)"
            " RETURNING correlation_id, recorded_at AS timestamp_utc, action AS policy_decision,"
            " detail->>'reason_code' AS reason_code, detail AS context_snapshot",
            (action, Jsonb(detail), operator, witness),
        )
    except DbError as exc:
        why = suite_tables.not_installed_reason(exc)
        if why:
            raise DbError(why) from exc
        raise
    if row is None or row["policy_decision"] != action:
        raise DbError(f"the {action} row does not read back")
    return row


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


#: what a step may raise and still be recorded as its failure (anything else interrupts: rollback, then raise)
STEP_ERRORS = (DbError, OSError, HttpError, ValrError, backup_mod.BackupError, env_edit.EnvEditError)


class _Run:
    def __init__(self, t: Target, opts: Options, tr: Transition) -> None:
        self.t, self.opts, self.tr = t, opts, tr
        self.backup: backup_mod.Backup | None = None
        self.original_env: bytes | None = None
        self.stopped = False
        self.env_changed = False
        self.stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S")
        self.live = opts.to == "LIVE"

    # ---------------------------------------------------------------- bookkeeping
    def do(self, number: int, fn: Callable[[Step], str]) -> None:
        step = self.tr.step(number)
        manual = number in MANUAL and self.opts.services.manual
        who = f"{self.opts.operator} (witness {self.opts.witness})"
        step.verified_by = f"{who}, confirmed" if manual else f"opscheck for {who}"
        try:
            step.detail = self.t.redactor.text(one_line(fn(step)))
            if step.status == NOT_REACHED:
                step.status = PASSED
        except StepFailed:
            step.status = FAILED
        step.at = now_iso()
        if step.status == FAILED:
            raise StepFailed(step.detail)

    def errored(self, item: str, exc: Exception) -> str:
        """The step engine's record of an expected error (``STEP_ERRORS``) of the step of row ``item``."""
        step = self.tr.step(int(item.rsplit(".", 1)[1]))
        step.status, step.detail = FAILED, self.t.redactor.text(one_line(f"{type(exc).__name__}: {exc}"))
        step.cause = step_cause(self.t, step.number, exc)
        step.at = now_iso()
        return step.detail

    def steps(self) -> list[tuple[str, Callable[[], object]]]:
        """The ten steps of §3.2 for the step engine, named by their §3.3 row."""
        return [
            (item, partial(self.do, n, getattr(self, name)))
            for n, (item, name) in enumerate(zip(ITEMS, STEP_FUNCS, strict=True), start=1)
        ]

    def fail(self, step: Step, detail: str) -> NoReturn:
        step.status, step.detail = FAILED, self.t.redactor.text(one_line(detail))
        raise StepFailed(detail)

    def confirm(self, step: Step, question: str) -> None:
        if not self.opts.confirm(question):
            self.fail(step, "the operator did not confirm")

    def audit(self, db: Db, label: str, decision: str, reason: str, snapshot: dict[str, Any]) -> dict[str, Any]:
        """One row of the transition trail in ``opscheck.ops_operator_actions`` (the runbook's policy_decision_audit
        row is refused by the bot's schema); ``label`` is the runbook's text id, kept in the detail."""
        return record_action(
            db,
            decision,
            {**snapshot, "reason_code": reason, "runbook_id": label},
            self.opts.operator,
            self.opts.witness,
        )

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"operator": self.opts.operator, "witness": self.opts.witness, "transition_id": self.tr.id, **extra}

    # ---------------------------------------------------------------- the ten steps
    def step1_audit(self, step: Step) -> str:
        prefix = "LIVE_TRANSITION" if self.live else "DRY_RUN_TRANSITION"
        cid = f"{prefix}_{self.stamp}"
        reason = "DRY_RUN_TO_LIVE" if self.live else "LIVE_TO_DRY_RUN"
        gate = {k: ("met" if r.ok else "not met") for k, r in self.tr.gate.items()}
        pf = self.opts.preflight
        snap = self.context(preflight=pf.path.parent.name if pf else None, requirements=gate, to=self.opts.to)
        with connect(self.t.db, self.t.redactor, read_only=False) as db:
            row = self.audit(db, cid, "TRANSITION", reason, snap)
            step.evidence.append(db.log.evidence("TRANSITION audit row"))
        return (
            f"TRANSITION/{reason} row {row['correlation_id']} at {row['timestamp_utc'].isoformat()} in "
            f"opscheck.{TRAIL_TABLE} (runbook: policy_decision_audit 'TRANSITION', refused by the bot's schema)"
        )

    def step2_stop(self, step: Step) -> str:
        if self.opts.services.manual:
            self.confirm(step, "Stop all services now (docker-compose down). Are they stopped?")
        problems = self.opts.services.stop()
        self.stopped = True
        if problems:
            self.fail(step, "; ".join(problems))
        return "services stopped; bot API gone"

    def step3_backup(self, step: Step) -> str:
        self.original_env = self.opts.env_file.read_bytes()
        label = "pre_live" if self.live else "pre_dry_run"
        b = backup_mod.create(self.t, self.opts.env_file, self.opts.backup_root, label, self.opts.use_pg_dump)
        self.backup = b
        self.tr.backup_dir = str(b.dir)
        problems = backup_mod.verify(b)
        step.evidence.append(Evidence("backup manifest (CHECKSUMS.sha256)", b.manifest()))
        if problems:
            self.fail(step, "; ".join(problems))
        notes = f" ({'; '.join(b.notes)})" if b.notes else ""
        return f"{b.dir.name}: env copy (600) and database ({b.db_method}), {len(b.files)} files checksummed{notes}"

    def step4_env(self, step: Step) -> str:
        changes: dict[str, str | None] = (
            {"EXECUTION_MODE": "LIVE", "LIVE_TRADING_CONFIRMED": "TRUE"}
            if self.live
            else {"EXECUTION_MODE": "DRY_RUN", "LIVE_TRADING_CONFIRMED": None}
        )
        names = env_edit.edit_file(self.opts.env_file, changes)
        self.env_changed = True
        return f"{self.opts.env_file.name}: {', '.join(names) or 'nothing'} changed in place (values not shown)"

    def step5_verify(self, step: Step) -> str:
        try:
            env = read_env_file(self.opts.env_file)
            before = read_env_file(self.backup.env_copy) if self.backup else {}
        except ConfigError as exc:
            self.fail(step, str(exc))
        problems = []
        if env.get("EXECUTION_MODE") != self.opts.to:
            problems.append(f"EXECUTION_MODE is not {self.opts.to}")
        confirmed = env.get("LIVE_TRADING_CONFIRMED")
        if self.live and confirmed != "TRUE":
            problems.append("LIVE_TRADING_CONFIRMED is not TRUE")
        if not self.live and confirmed not in (None, "", "FALSE"):
            problems.append("LIVE_TRADING_CONFIRMED is still set")
        if (env.get("KILL_SWITCH_ENABLED") or "").lower() != "true":
            problems.append("KILL_SWITCH_ENABLED is not true")
        others = {k for k in set(env) | set(before) if k not in ("EXECUTION_MODE", "LIVE_TRADING_CONFIRMED")}
        changed = sorted(k for k in others if env.get(k) != before.get(k))
        if changed:
            problems.append(f"other variables changed: {', '.join(changed)}")
        if problems:
            self.fail(step, "; ".join(problems))
        return (
            f"EXECUTION_MODE={self.opts.to}, LIVE_TRADING_CONFIRMED {'TRUE' if self.live else 'unset'}, "
            "KILL_SWITCH_ENABLED=true; every other variable unchanged"
        )

    def step6_pnl(self, step: Step) -> str:
        if not self.live:
            step.status = NOT_APPLICABLE
            return "not applicable on the way back to DRY_RUN"
        zar = self._zar_balance(step)
        with connect(self.t.db, self.t.redactor, read_only=False) as db:
            try:
                row = db.one(
                    "UPDATE system_settings SET daily_pnl_zar = 0.00, daily_pnl_pct = 0.000000, consecutive_losses = 0,"
                    " daily_pnl_reset_at = NOW(), daily_starting_equity_zar = %s WHERE id = 1"
                    " RETURNING daily_pnl_zar, daily_pnl_pct, consecutive_losses, daily_pnl_reset_at,"
                    " daily_starting_equity_zar, NOW() AS db_now",
                    (zar,),
                )
            finally:
                step.evidence.append(db.log.evidence("daily P&L reset"))
        if row is None:
            self.fail(step, "system_settings id=1 is missing")
        if row["daily_pnl_zar"] != 0 or row["consecutive_losses"] != 0 or row["daily_pnl_reset_at"] != row["db_now"]:
            self.fail(step, "system_settings does not read back as reset")
        return (
            f"daily P&L 0.00, losses 0, starting equity R {Decimal(row['daily_starting_equity_zar']):,.2f} "
            "(ZAR balance from VALR: the runbook's valr_balances table does not exist in the bot)"
        )

    def _valr(self, rec: Recorder) -> ValrClient:
        return ValrClient(
            self.t.valr_base_url,
            self.t.secret("VALR_API_KEY"),
            self.t.secret("VALR_API_SECRET"),
            transport=self.t.valr_transport,
            recorder=rec,
        )

    def _zar_balance(self, step: Step) -> Decimal:
        """The account's total ZAR balance at VALR (runbook: ``SELECT balance FROM valr_balances``)."""
        rec = Recorder(self.t.redactor)
        try:
            balances = self._valr(rec).balances()
        finally:
            step.evidence.append(Evidence("HTTP (VALR balances)", rec.render()))
        zar = [b for b in balances if b.currency == "ZAR"]
        if len(zar) != 1:
            self.fail(step, f"VALR returned {len(zar)} ZAR balance rows: daily_starting_equity_zar not set; not reset")
        total = zar[0].total
        if not total.is_finite() or total < 0:
            self.fail(step, "VALR's ZAR balance is not a non-negative number: not reset")
        return total

    def step7_start(self, step: Step) -> str:
        if self.opts.services.manual:
            self.confirm(step, f"Start the services now (docker-compose up -d) in {self.opts.to}. Started?")
        self.started_at = datetime.now(UTC)
        problems = self.opts.services.start()
        if problems:
            self.fail(step, "; ".join(problems))
        self.stopped = False
        return "services running; bot health answers"

    def step8_mode(self, step: Step) -> str:
        try:
            env = read_env_file(self.opts.env_file)
        except ConfigError as exc:
            self.fail(step, str(exc))
        mode = transition_gate.execution_mode(self.t, env)
        step.evidence.extend(mode.evidence)
        problems = []
        if mode.value != self.opts.to:
            problems.append(mode.reason if mode.value is None else f"{mode.reason}: not {self.opts.to}")
        try:
            since = getattr(self, "started_at", datetime.now(UTC))
            lines = [
                ln
                for ln in logs.recent_lines(self.t.log_dir, since)
                if "execution_mode" in ln.text.lower() or "TradePermissionPolicy" in ln.text
            ]
        except logs.LogError as exc:
            lines = []
            problems.append(f"bot log unreadable: {exc}")
        step.evidence.append(Evidence("bot log since start", "\n".join(f"{x.at.isoformat()} {x.text}" for x in lines)))
        if not any(f"EXECUTION_MODE={self.opts.to}" in x.text for x in lines):
            problems.append(
                f"runbook §3.2 Step 8 expects EXECUTION_MODE={self.opts.to} in the bot log; none since the start "
                "(TRADE_BOT logs only '[VALR-ORD] OrderManager initialized | mode=…' when an order manager is built)"
            )
        if not any("TradePermissionPolicy initialized" in x.text for x in lines):
            problems.append(
                "runbook §3.2 Step 8 expects 'TradePermissionPolicy initialized' in the bot log; none since the start "
                "(TRADE_BOT builds one only in app/logic/policy_integration.py, which nothing in app/ imports)"
            )
        if problems:
            self.fail(step, "; ".join(problems))
        return f"{mode.reason}; log: EXECUTION_MODE={self.opts.to}, TradePermissionPolicy initialized"

    def step9_signal(self, step: Step) -> str:
        qty, symbol = self.opts.test_quantity, self.opts.test_symbol
        if self.live and not self.opts.confirm(f"Send the LIVE test signal: a real market BUY of {qty} {symbol}?"):
            self.fail(step, "the operator did not confirm the test order")
        reply = signal_mod.send_signal(self.t, symbol=symbol, quantity=qty, timeout=10)
        step.evidence.extend(reply.evidence)
        if reply.error:
            self.fail(step, f"test signal not sent: {reply.error}")
        cid = reply.correlation_id
        if not reply.accepted or not cid:
            self.fail(step, f"the bot answered {reply.describe()} to the signed test signal")
        if reply.trade_decision not in (None, "APPROVED"):
            self.fail(step, f"the bot's trade_decision is {reply.trade_decision}, not APPROVED")
        with connect(self.t.db, self.t.redactor) as db:
            try:
                audit = db.one(
                    "SELECT policy_decision, reason_code FROM policy_decision_audit WHERE correlation_id = %s",
                    (cid,),
                )
                orders = db.rows(
                    "SELECT order_id, status, execution_mode FROM trading_orders WHERE correlation_id = %s", (cid,)
                )
            finally:
                step.evidence.append(db.log.evidence("test signal: audit row and order"))
        if audit is None or audit["policy_decision"] != "ALLOW":
            shown = f"{audit['policy_decision']} ({audit['reason_code']})" if audit else "no row"
            self.fail(step, f"policy evaluation under the test signal's correlation id {cid}: {shown}, not ALLOW")
        if not self.live:
            sent = reply.answer.get("order_submitted")
            if sent or not orders or any(o["execution_mode"] != "DRY_RUN" for o in orders):
                self.fail(step, "in DRY_RUN the test signal must give a simulated order and nothing at the exchange")
            return f"signal {reply.signal_id}: ALLOW, simulated order {orders[0]['order_id']}, nothing sent to VALR"
        if not orders or orders[0]["execution_mode"] != "LIVE":
            self.fail(step, "ALLOW, but no LIVE order was recorded (the exchange rejected it or it was not sent)")
        vrec = Recorder(self.t.redactor)
        try:
            status = self._valr(vrec).order_status(symbol, cid)
        finally:
            step.evidence.append(Evidence("HTTP (VALR order status)", vrec.render()))
        state = str(status.get("orderStatusType", ""))
        if state.lower() in ("failed", "cancelled", "") or status.get("failedReason"):
            self.fail(step, f"VALR reports the test order {state or 'without status'}")
        self.order_id = str(status.get("orderId") or orders[0]["order_id"])
        return f"signal {reply.signal_id}: ALLOW → order submitted → VALR confirms {state} (order {self.order_id})"

    def step10_complete(self, step: Step) -> str:
        with connect(self.t.db, self.t.redactor, read_only=False) as db:
            if self.live:
                checklist = [
                    {"item": s.item, "status": s.status, "at": s.at, "verified_by": s.verified_by}
                    for s in self.tr.steps[:9]
                ]
                snap = self.context(
                    first_trade_verified=True, order_id=getattr(self, "order_id", None), checklist=checklist
                )
                row = self.audit(
                    db, f"LIVE_TRANSITION_COMPLETE_{self.stamp}", "TRANSITION_COMPLETE", "LIVE_MODE_ACTIVE", snap
                )
            else:
                snap = self.context(reason="planned return to DRY_RUN")
                row = self.audit(db, f"LIVE_ROLLBACK_{self.stamp}", "ROLLBACK", "LIVE_TO_DRY_RUN", snap)
            step.evidence.append(db.log.evidence("completion audit row"))
        return f"{row['policy_decision']}/{row['reason_code']} row {row['correlation_id']}"

    # ---------------------------------------------------------------- §3.4
    def rollback(self, reason: str) -> None:
        rb, ok = self.tr.rollback, True
        if not self.live:
            rb.append("the return to DRY_RUN failed: nothing is restored to LIVE")
            self.fail_safe(reason)
            self.tr.rollback_ok = False
            return
        if self.env_changed or self.stopped or self.tr.step(7).status != NOT_REACHED:
            problems = self.opts.services.stop()
            rb.append(f"{now_iso()} 1 services stopped" + (f" (problems: {'; '.join(problems)})" if problems else ""))
            self.stopped = True
        if self.backup is not None:
            problem = backup_mod.restore_env(self.backup, self.opts.env_file)
            rb.append(f"{now_iso()} 2 env file restored from {self.backup.dir.name}: {problem or 'byte for byte'}")
            ok = ok and problem is None
        elif self.original_env is not None and self.opts.env_file.read_bytes() != self.original_env:
            rb.append(f"{now_iso()} 2 env file changed and no backup to restore")
            ok = False
        else:
            rb.append(f"{now_iso()} 2 env file never changed")
        try:
            mode = read_env_file(self.opts.env_file).get("EXECUTION_MODE")
        except ConfigError as exc:
            mode = f"unreadable ({exc})"
        rb.append(f"{now_iso()} 3 EXECUTION_MODE: {'DRY_RUN' if mode == 'DRY_RUN' else 'NOT DRY_RUN'}")
        ok = ok and mode == "DRY_RUN"
        if self.stopped:
            problems = self.opts.services.start() if ok else ["not restarted: the env file is not DRY_RUN"]
            reported = self._reported_mode()
            rb.append(
                f"{now_iso()} 4 services restarted: bot reports {reported}"
                + (f" (problems: {'; '.join(problems)})" if problems else "")
            )
            ok = ok and not problems and reported == "DRY_RUN"
        try:
            with connect(self.t.db, self.t.redactor, read_only=False) as db:
                snap = self.context(
                    reason=reason, failed_step=next((s.item for s in self.tr.steps if s.status == FAILED), None)
                )
                row = self.audit(
                    db,
                    f"LIVE_ROLLBACK_{datetime.now(UTC).strftime('%Y%m%d_%H%M%S')}",
                    "ROLLBACK",
                    "LIVE_TO_DRY_RUN",
                    snap,
                )
            rb.append(f"{now_iso()} 5 ROLLBACK row {row['correlation_id']}")
        except DbError as exc:
            rb.append(f"{now_iso()} 5 ROLLBACK row NOT written: {self.t.redactor.text(str(exc))}")
            ok = False
        if not ok:
            self.fail_safe(reason)
        self.tr.rollback_ok = ok

    def _reported_mode(self) -> str:
        """The bot's mode after the restart (env file, cross-checked with what the bot reports), or why unknown."""
        try:
            env = read_env_file(self.opts.env_file)
        except ConfigError as exc:
            return f"unknown ({exc})"
        mode = transition_gate.execution_mode(self.t, env)
        return mode.value or f"unknown ({mode.reason})"

    def fail_safe(self, reason: str) -> None:
        try:
            with connect(self.t.db, self.t.redactor, read_only=False) as db:
                # an operator's hold already in place keeps its reason and time (never overwritten)
                kill_switch_state.activate_operator(db, "TRANSITION_FAILED", deadline_s=10.0)
                kill_switch_state.record_event(
                    db,
                    activated=True,
                    reason=one_line(reason)[:200],
                    operator=self.opts.operator,
                    via="opscheck transition",
                )
            self.tr.rollback.append(f"{now_iso()} kill switch ACTIVATED (fail-safe): resolve by hand")
        except DbError as exc:
            self.tr.rollback.append(f"{now_iso()} kill switch could NOT be activated: {exc}: STOP TRADING BY HAND")


STEP_FUNCS = (
    "step1_audit",
    "step2_stop",
    "step3_backup",
    "step4_env",
    "step5_verify",
    "step6_pnl",
    "step7_start",
    "step8_mode",
    "step9_signal",
    "step10_complete",
)


def run(t: Target, opts: Options) -> Transition:
    """The whole procedure once; never raises for a failed step (the record says what happened)."""
    tr = Transition(
        id=f"TR-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}",
        to=opts.to,
        operator=opts.operator,
        witness=opts.witness,
        target=t.name,
        started_at=now_iso(),
        steps=[Step(n, a) for n, a in enumerate(ACTIONS, start=1)],
    )
    if opts.to == "DRY_RUN":
        tr.steps[7].action = "DRY_RUN mode verified"
        tr.steps[9].action = "Return recorded (ROLLBACK row)"
    tr.refused = _refusal(t, opts, tr)
    if tr.refused:
        return _finish(tr, opts)
    try:
        with connect(t.db, t.redactor, read_only=False) as lock_db:
            absent = suite_tables.missing(lock_db, TRAIL_TABLE)  # the trail has nowhere to go: change nothing
            if absent:
                tr.refused = absent
                return _finish(tr, opts)
            if not lock_db.first("SELECT pg_try_advisory_lock(%s) AS ok", (LOCK_KEY,))["ok"]:
                tr.refused = "another transition holds the advisory lock"
                return _finish(tr, opts)
            r = _Run(t, opts, tr)
            engine = StepRun(STEP_ERRORS, r.errored)
            try:
                try:
                    completed = engine.run(r.steps())
                except BaseException:
                    r.rollback("interrupted")
                    raise
                if not completed:
                    r.rollback(engine.reason)
            finally:
                lock_db.rows("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    except DbError as exc:
        tr.refused = tr.refused or f"database unreachable: {exc}"
    return _finish(tr, opts)


def _refusal(t: Target, opts: Options, tr: Transition) -> str:
    if opts.to not in MODES:
        return f"--to must be LIVE or DRY_RUN, not {opts.to!r}"
    if not opts.operator or not opts.witness or transition_gate.same_person(opts.operator, opts.witness):
        return "operator and witness must be two different people (four eyes)"
    if not opts.env_file.is_file():
        return f"env file {opts.env_file} not found"
    if opts.to == "LIVE":
        if opts.preflight is None:
            return "no preflight verdict to check (run opscheck preflight first)"
        tr.gate = transition_gate.evaluate(
            opts.preflight,
            target=t.name,
            operator=opts.operator,
            witness=opts.witness,
            max_age_min=opts.max_preflight_age_min,
        )
        refusal = transition_gate.refusal(tr.gate, opts.preflight)
        if refusal:
            return refusal
    if not opts.confirm(f"{opts.witness}: do you witness the transition to {opts.to} run by {opts.operator}?"):
        return "the witness did not confirm"
    return ""


def _finish(tr: Transition, opts: Options) -> Transition:
    tr.finished_at = now_iso()
    try:
        opts.record_dir.mkdir(parents=True, exist_ok=True)
        js = opts.record_dir / f"{tr.id}.json"
        md = opts.record_dir / f"{tr.id}.md"
        js.write_text(json.dumps(tr.as_json(), indent=2) + "\n", encoding="utf-8")
        md.write_text(tr.markdown(), encoding="utf-8")
        tr.record_files = [js, md]
    except OSError:
        tr.record_files = []
    return tr
