"""Runbook §3 as a drill on a disposable sandbox (never the session's shared one, which must stay DRY_RUN).

1. A pre-transition preflight on the disposable sandbox: the real checks behind every §3.1 requirement (all §1
   and §2.1–2.3 blockers, the §4.3 kill-switch flow), written as a signed ``verdict.json`` exactly as
   ``opscheck preflight`` writes it.
2. §3.1: that verdict through the transition's own gate (items 3.1.1–3.1.6).
3. §3.2: ``transition.run`` to LIVE with the sandbox's service runner (items 3.3.1–3.3.10), the real test order
   against the VALR simulator; then back to DRY_RUN the same way (the way back is evidence on every item).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops_checks.access.config import Target
from ops_checks.catalogue import BLOCKER, BY_ID, ITEMS
from ops_checks.checks.s3_transition import transition_gate
from ops_checks.checks.s8_clock_drift import drift
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified
from ops_checks.drills import base as drill_base
from ops_checks.procedures import kill_switch, transition
from ops_checks.sandbox.compose import SandboxServices
from ops_checks.sandbox.environment import Sandbox
from ops_checks.verdict import verdict
from ops_checks.verdict.waivers import Waiver

OPERATOR, WITNESS = "sandbox-operator", "sandbox-witness"
ENV_FILE = ".env"

Check = Callable[[Target], CheckResult]
Precondition = Callable[[Target], CheckResult | str | None]

#: the items the pre-transition preflight checks one by one, in the order ``opscheck preflight`` runs them: every
#: §1 and §2.1–2.3 blocker (1.3.1 is its own kill-switch drill there, run before §4's, and so it is here); then
#: §4.3's flow (``kill_switch.STEPS``) and §8.6 (``transition_gate.DRIFT_ITEMS``, judged on one measurement)
PRECHECK_SECTIONS = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "2.1", "2.2", "2.3")
PRECHECK_ITEMS: tuple[str, ...] = tuple(
    i.id for i in ITEMS if i.severity == BLOCKER and i.section.split(" ")[0] in PRECHECK_SECTIONS
)
#: the items whose check and preconditions the preflight takes from the registry (Item.check, Item.preconditions)
REGISTRY_ITEMS: tuple[str, ...] = (*PRECHECK_ITEMS, *kill_switch.STEPS, *transition_gate.DRIFT_ITEMS)


def preconditions_of(item: str, **runtime: Any) -> tuple[Precondition, ...]:
    """The ``Given`` preconditions of the item's scenario (the registry's Item.preconditions), bound: an item whose
    precondition fails is *not verified* (skipped) here exactly as in ``opscheck preflight``, so the gate names each
    item by the status it would have there."""
    return tuple(given.bind(**runtime) for given in BY_ID[item].preconditions)


def _runtime(sb: Sandbox, run_id: str) -> dict[str, Any]:
    """The run-time values the registry's checks and preconditions of these items ask for (Item.check_needs); the
    drift measurement ``m`` joins them when §8.6 is judged."""
    return {"run_id": run_id, "exchange_orders": sb.exchange_orders}


def _not_verified(t: Target, preconditions: tuple[Precondition, ...]) -> CheckResult | None:
    """The first failing precondition's structured result (its reason, cause and the items it rests on), as the
    preflight gives it, or None."""
    for pre in preconditions:
        problem = pre(t)
        if problem is None or problem == "":
            continue
        result = problem if isinstance(problem, CheckResult) else not_verified(problem)
        if not result.ok:
            return result
    return None


def _judged(t: Target, item: str, result: CheckResult) -> verdict.ItemOutcome:
    """``result`` as the item's outcome, its status, cause and ``blocked_by`` as the check gave them."""
    return verdict.outcome(
        item, result.status.value, t.redactor.text(result.summary()), cause=result.cause, blocked_by=result.blocked_by
    )


def _outcome(t: Target, item: str, runtime: dict[str, Any]) -> verdict.ItemOutcome:
    """The item judged as ``opscheck preflight`` judges it: its preconditions, then its check (both the registry's)."""
    if (blocked := _not_verified(t, preconditions_of(item, **runtime))) is not None:
        return _judged(t, item, blocked)
    check: Check = BY_ID[item].bind_check(**runtime)
    return _judged(t, item, check(t))


def preflight(
    sb: Sandbox,
    reports: Path,
    operator: str = OPERATOR,
    witness: str = WITNESS,
    waivers: Mapping[str, Waiver] | None = None,
) -> Path:
    """The pre-transition preflight of the disposable sandbox; returns its run directory (with verdict.json).

    Each item is judged as ``opscheck preflight`` judges it: the same check, the same preconditions (a failed one
    makes the item *not verified*), the same order (1.3.1's own drill, then §4.3's flow, then §8.6), and the same
    waivers (``waivers``: the run's active ones by item): a waived item is met here as it is in the run's verdict."""
    t = sb.target
    assert t is not None
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    runtime = _runtime(sb, run_id)
    outcomes = [_outcome(t, item, runtime) for item in PRECHECK_ITEMS]
    blocked = _not_verified(t, preconditions_of(kill_switch.STEPS[0], **runtime))
    orders = runtime["exchange_orders"]
    flow = None if blocked else kill_switch.run_flow(t, kill_switch.FlowOptions.for_target(t, exchange_orders=orders))
    for item in kill_switch.STEPS:
        if flow is None:
            outcomes.append(_judged(t, item, blocked or not_verified("the kill-switch flow did not run")))
        else:
            outcomes.append(_judged(t, item, flow.result(item)))
    runtime["m"] = drift.measure(t)  # §8.6 on one measurement, as ``opscheck preflight`` judges it
    outcomes += [_outcome(t, item, runtime) for item in transition_gate.DRIFT_ITEMS]
    active = dict(waivers or {})
    in_force = [
        {"item": w.item, "justification": w.justification, "approver": w.approver, "expires": w.expires.isoformat()}
        for w in sorted(active.values(), key=lambda w: verdict.sort_key(w.item))
    ]
    data = verdict.build(
        verdict.apply_waivers(outcomes, active),
        target=t.name,
        started_at=started,
        finished_at=datetime.now(UTC),
        operator=operator,
        witness=witness,
        waivers_in_force=in_force,
    )
    run_dir = reports / run_id
    verdict.write(run_dir, data)
    return run_dir


def write_env_file(sb: Sandbox, path: Path) -> Path:
    """The sandbox's settings as the operator's ``.env``: comments, blank lines, ``export``, both quote styles, a
    commented-out LIVE_TRADING_CONFIRMED, as §3.2 Step 4 shows it."""
    env = sb.env
    lines = ["# autonomous_alpha bot settings (sandbox)", "# --- database ---", ""]
    for name in ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER"):
        lines.append(f"{name}={env[name]}")
    lines.append(f"DB_PASSWORD='{env['DB_PASSWORD']}'  # rotated 2024-Q3")
    lines += ["", "# --- trading mode ---", f"export EXECUTION_MODE = {env['EXECUTION_MODE']}"]
    lines.append("# LIVE_TRADING_CONFIRMED=TRUE  (commented out)")
    lines += [f'KILL_SWITCH_ENABLED="{env["KILL_SWITCH_ENABLED"]}"', "", "# --- secrets ---"]
    for name in ("VALR_API_KEY", "VALR_API_SECRET", "SOVEREIGN_SECRET", "WEBHOOK_SECRET"):
        lines.append(f'{name}="{env[name]}"')
    lines += ['GREETING="multi', 'line # not a comment"', "MAX_ORDER_ZAR=5000   # per order", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    path.chmod(0o600)
    return path


@dataclass(repr=False)
class Drill(drill_base.Drill):
    """``results``: the gate's requirements (3.1.x) and the transition's checklist rows (3.3.x)."""

    gate: dict[str, CheckResult] = field(default_factory=dict)
    preflight: transition_gate.Preflight | None = None
    to_live: transition.Transition | None = None
    back: transition.Transition | None = None
    env_before: bytes = b""
    env_after: bytes = b""
    problem: str = ""

    def outcome(self, item: str) -> CheckResult:
        if item.startswith("3.1.") and item not in self.results:
            return failed("not run", item, "the gate did not evaluate this requirement")
        return super().outcome(item)

    def refusal(self) -> CheckResult | None:
        """Why the transition to LIVE never started (its rows 3.3.x are then not verified), or None.

        It rests on what the gate found: the blocker items its preflight did not show met (they are items of the
        same run) and the §3.1 requirements not met; the reason does not repeat theirs."""
        tr = self.to_live
        if tr is None or not tr.refused:
            return None
        unmet = [req for req, r in self.gate.items() if not r.ok]
        items = transition_gate.blockers_not_met(self.preflight) if self.preflight is not None else []
        rests_on = tuple(dict.fromkeys([*items, *unmet]))
        named = f" (it rests on {', '.join(rests_on[:6])}{' …' if len(rests_on) > 6 else ''})" if rests_on else ""
        cause = Cause(
            "transition_refused",
            "the transition to LIVE",
            f"the transition to LIVE was refused: {tr.refused}",
            "make the pre-transition preflight GO (the items it rests on), then re-run",
        )
        return not_verified(f"the transition was refused before step 1{named}", cause=cause, blocked_by=rests_on)

    def not_reached(self, item: str) -> CheckResult | None:
        """Why row ``item`` was never reached (an earlier step failed and the rollback ran), or None: not verified,
        resting on the row of the step that failed."""
        tr = self.to_live
        if tr is None or tr.refused:
            return None
        step = tr.step(int(item.rsplit(".", 1)[1]))
        if step.status != transition.NOT_REACHED:
            return None
        first = next((s for s in tr.steps if s.status == transition.FAILED), None)
        if first is None:
            return not_verified(f"the transition stopped before {item}; rolled back")
        return not_verified(
            f"the transition stopped before {item}: step {first.number} ({first.action}) failed; rolled back",
            blocked_by=(first.item,),
        )

    def checklist(self, item: str) -> CheckResult:
        assert self.to_live is not None
        result = self.to_live.result(item)
        if self.back is not None:
            result.evidence.append(Evidence("§3.4 return to DRY_RUN", self.back.markdown(), "text/markdown"))
            if result.ok and item == "3.3.10" and not self.back.ok:
                result.ok = False
                result.reason = f"LIVE reached, but the return to DRY_RUN failed: {self.back.refused or 'see record'}"
        return result


def refusal(drill: Drill | None) -> CheckResult | None:
    """The Given of the §3.3 rows: why the drill's transition to LIVE never started (``Drill.refusal``), or None;
    on live (no drill) the rows are read from the transition record and rest on nothing here."""
    return None if drill is None else drill.refusal()


def run(
    sb: Sandbox,
    workdir: Path,
    *,
    operator: str | None = None,
    witness: str | None = None,
    waivers: Mapping[str, Waiver] | None = None,
) -> Drill:
    """Preflight, gate, transition to LIVE and back on ``sb`` (started, env file written, faults applied).

    ``operator`` and ``witness`` are the names given (``opscheck transition --target sandbox``): recorded as given.
    Without them, the sandbox's drill inputs (``TRANSITION_OPERATOR``/``TRANSITION_WITNESS``, which faults change),
    else placeholder names. ``waivers``: the run's active waivers by item; the drill's own preflight applies them
    as the run's verdict does, so a waived item is met for the gate too."""
    t = sb.target
    assert t is not None
    drill = Drill()
    env_file = sb.workdir / ENV_FILE
    drill.env_before = env_file.read_bytes()
    operator = operator or sb.env.get("TRANSITION_OPERATOR", OPERATOR)
    witness = witness or sb.env.get("TRANSITION_WITNESS", WITNESS)
    run_dir = preflight(sb, workdir / "reports", operator, witness, waivers)
    pf = transition_gate.load(run_dir)
    drill.preflight = pf
    drill.gate = transition_gate.evaluate(pf, target=t.name, operator=operator, witness=witness)
    services = SandboxServices(sb, env_file)

    def opts(to: str) -> transition.Options:
        return transition.Options(
            to=to,
            operator=operator,
            witness=witness,
            env_file=env_file,
            backup_root=workdir / "backups",
            record_dir=workdir / "transitions",
            services=services,
            confirm=lambda _q: True,
            preflight=pf,
            start_timeout_s=5.0,
            use_pg_dump=False,
        )

    drill.to_live = transition.run(t, opts("LIVE"))
    if drill.to_live.ok:
        drill.back = transition.run(t, opts("DRY_RUN"))
    drill.env_after = env_file.read_bytes()
    drill.results.update(drill.gate)
    drill.results.update((item, drill.checklist(item)) for item in transition.ITEMS)
    return drill
