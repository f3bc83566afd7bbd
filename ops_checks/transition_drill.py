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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ops_checks import (
    drift,
    drift_logs,
    drill_base,
    dry_run,
    exchange,
    gates,
    infra,
    killswitch,
    limits,
    logs,
    monitoring,
    ntp,
    preconditions,
    safety,
    secrets_check,
    signed_request,
    transition,
    transition_gate,
    verdict,
)
from ops_checks.config import Target
from ops_checks.result import CheckResult, Evidence, failed
from ops_checks.sandbox.compose import SandboxServices
from ops_checks.sandbox.environment import Sandbox

OPERATOR, WITNESS = "sandbox-operator", "sandbox-witness"
ENV_FILE = ".env"

Check = Callable[[Target], CheckResult]


Precondition = Callable[[Target], str | None]


def _table(name: str) -> Precondition:
    return lambda t: preconditions.table_unreadable(t, name)


_DB: tuple[Precondition, ...] = (preconditions.database_unreachable,)
_DECISIONS = (*_DB, _table("policy_decision_audit"))
_KILL_SWITCH = (*_DB, _table("circuit_breaker_events"))
#: the ``Given`` preconditions of the features, item by item: an item whose precondition fails is *not verified*
#: (skipped) here exactly as in ``opscheck preflight``, so the gate names each item by the status it would have there
PRECONDITIONS: dict[str, tuple[Precondition, ...]] = {
    "1.1.2": _DB, "1.1.3": _DB, "1.1.4": _DB, "1.1.6": _DB,
    "1.2.3": (preconditions.metrics_unreadable,),
    "1.3.1": (*_KILL_SWITCH, preconditions.bot_not_deciding),
    "1.3.2": _DB, "1.5.1": _DB,
    "1.6.1": (preconditions.bot_unhealthy,),
    "1.6.2": _DECISIONS, "1.6.3": _DECISIONS, "1.6.4": _DECISIONS,
    "2.1.1": (secrets_check.valr_signature_not_accepted,),
    "2.1.2": (secrets_check.valr_key_not_recognised,),
    "2.3.1": _DB,
    **{item: _KILL_SWITCH for item in killswitch.STEPS},
    "8.6.3": (ntp.tool_missing,),
}


def _prechecks(sb: Sandbox, run_id: str) -> dict[str, Check]:
    """The checks of every item before §3, in the order ``opscheck preflight`` runs them (1.3.1 is its own
    kill-switch drill there, run before §4's, and so it is here)."""
    orders = (lambda: len(sb.valr.orders)) if sb.valr is not None else None
    return {
        "1.1.1": infra.database_connectivity,
        "1.1.2": infra.settings_row_valid,
        "1.1.3": lambda t: infra.table_queryable(t, "circuit_breaker_events"),
        "1.1.4": lambda t: infra.table_queryable(t, "policy_decision_audit"),
        "1.1.5": infra.services_healthy,
        "1.1.6": infra.api_health,
        "1.2.1": exchange.valr_reachable,
        "1.2.2": exchange.api_key_valid,
        "1.2.3": exchange.balance_readable,
        "1.2.4": drift.drift_within_tolerance,
        "1.3.1": killswitch.verify_kill_switch,
        "1.3.2": safety.circuit_breaker_configured,
        "1.3.3": logs.budget_loaded,
        "1.3.4": logs.health_green,
        "1.3.5": logs.risk_healthy,
        "1.4.1": lambda t: monitoring.discord_test_message(t, run_id),
        "1.4.2": monitoring.metrics_respond,
        "1.4.3": monitoring.grafana_dashboards,
        "1.4.4": logs.logs_being_written,
        "1.5.1": exchange.starting_equity_recorded,
        "1.5.2": limits.zar_floor,
        "1.5.3": limits.max_order,
        "1.5.4": limits.max_risk,
        "1.6.1": dry_run.execution_mode,
        "1.6.2": lambda t: dry_run.test_signal(t, orders),
        "1.6.3": dry_run.decisions_logged,
        "1.6.4": dry_run.dry_run_review,
        "2.1.1": secrets_check.valr_api_key,
        "2.1.2": secrets_check.valr_api_secret,
        "2.1.3": secrets_check.sovereign_secret,
        "2.1.4": secrets_check.webhook_secret,
        "2.1.5": secrets_check.postgres_password,
        "2.1.6": secrets_check.db_password,
        "2.1.7": secrets_check.guardian_reset_code,
        "2.1.8": lambda t: secrets_check.discord_webhook(t, run_id),
        "2.1.9": secrets_check.openrouter_api_key,
        "2.2.1": gates.execution_mode,
        "2.2.2": gates.live_trading_confirmed,
        "2.2.3": gates.kill_switch_enabled,
        "2.3.1": gates.limits_consistent,
    }


def _drift_checks(t: Target) -> dict[str, tuple[Check, Precondition | None]]:
    """§8.6 (the items 3.1.5 rests on), judged on one measurement as ``opscheck preflight`` does."""
    m = drift.measure(t)
    return {
        "8.6.1": (drift.exchange_time_reachable, None),
        "8.6.2": (lambda t: drift.offset_within_tolerance(t, m), lambda _t: drift.time_unavailable(m)),
        "8.6.3": (ntp.ntp_synchronized, None),
        "8.6.4": (drift_logs.time_sync_logs_ok, lambda t: drift.beyond_tolerance(t, m)),
        "8.6.5": (signed_request.signed_request_accepted, None),
    }


def _not_verified(t: Target, item: str, extra: Precondition | None = None) -> str | None:
    """The first failing precondition of ``item`` as the preflight words it ("not verified: …"), or None."""
    for pre in (*PRECONDITIONS.get(item, ()), *((extra,) if extra is not None else ())):
        problem = pre(t)
        if problem:
            return f"not verified: {t.redactor.text(problem)}"
    return None


def _outcome(t: Target, item: str, check: Check, extra: Precondition | None = None) -> dict[str, str]:
    if why := _not_verified(t, item, extra):
        return verdict.outcome(item, verdict.SKIPPED, why)
    result = check(t)
    return verdict.outcome(item, verdict.PASSED if result.ok else verdict.FAILED, result.summary())


def preflight(sb: Sandbox, reports: Path, operator: str = OPERATOR, witness: str = WITNESS) -> Path:
    """The pre-transition preflight of the disposable sandbox; returns its run directory (with verdict.json).

    Each item is judged as ``opscheck preflight`` judges it: the same check, the same preconditions (a failed one
    makes the item *not verified*), the same order (1.3.1's own drill, then §4.3's flow, then §8.6)."""
    t = sb.target
    assert t is not None
    started = datetime.now(UTC)
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    outcomes = [_outcome(t, item, check) for item, check in _prechecks(sb, run_id).items()]
    orders = (lambda: len(sb.valr.orders)) if sb.valr is not None else None
    blocked = _not_verified(t, killswitch.STEPS[0])
    flow = None if blocked else killswitch.run_flow(t, killswitch.FlowOptions.for_target(t, exchange_orders=orders))
    for item in killswitch.STEPS:
        result = flow.outcome(item) if flow is not None else None
        if flow is None:
            outcomes.append(verdict.outcome(item, verdict.SKIPPED, blocked or "not verified"))
        elif result is None:
            outcomes.append(verdict.outcome(item, verdict.SKIPPED, flow.not_reached(item)))
        else:
            outcomes.append(verdict.outcome(item, verdict.PASSED if result.ok else verdict.FAILED, result.summary()))
    outcomes += [_outcome(t, item, check, extra) for item, (check, extra) in _drift_checks(t).items()]
    data = verdict.build(
        outcomes, target=t.name, started_at=started, finished_at=datetime.now(UTC), operator=operator, witness=witness
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
    to_live: transition.Transition | None = None
    back: transition.Transition | None = None
    env_before: bytes = b""
    env_after: bytes = b""
    problem: str = ""

    def outcome(self, item: str) -> CheckResult:
        if item.startswith("3.1.") and item not in self.results:
            return failed("not run", item, "the gate did not evaluate this requirement")
        return super().outcome(item)

    def not_reached(self, item: str) -> str | None:
        """Why row ``item`` was never reached (an earlier step failed and the rollback ran), or None."""
        tr = self.to_live
        if tr is None or tr.refused:
            return None
        step = tr.step(int(item.rsplit(".", 1)[1]))
        if step.status != transition.NOT_REACHED:
            return None
        first = next((s for s in tr.steps if s.status == transition.FAILED), None)
        where = f"step {first.number} ({first.action}) failed" if first else "the transition stopped"
        return f"the transition stopped before {item}: {where}; rolled back"

    def checklist(self, item: str) -> CheckResult:
        assert self.to_live is not None
        result = self.to_live.result(item)
        if self.back is not None:
            result.evidence.append(Evidence("§3.4 return to DRY_RUN", self.back.markdown(), "text/markdown"))
            if result.ok and item == "3.3.10" and not self.back.ok:
                result.ok = False
                result.reason = f"LIVE reached, but the return to DRY_RUN failed: {self.back.refused or 'see record'}"
        return result


def run(sb: Sandbox, workdir: Path) -> Drill:
    """Preflight, gate, transition to LIVE and back on ``sb`` (started, env file written, faults applied)."""
    t = sb.target
    assert t is not None
    drill = Drill()
    env_file = sb.workdir / ENV_FILE
    drill.env_before = env_file.read_bytes()
    operator = sb.env.get("TRANSITION_OPERATOR", OPERATOR)
    witness = sb.env.get("TRANSITION_WITNESS", WITNESS)
    run_dir = preflight(sb, workdir / "reports", operator, witness)
    pf = transition_gate.load(run_dir)
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
