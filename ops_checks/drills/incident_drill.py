"""Runbook §6 as a drill on a disposable sandbox: an incident, its capture, report, documentation and resume.

The incident: yesterday's session ended on the third consecutive losing LIVE trade; the bot's breach handler
trips the circuit breaker (MAX_CONSECUTIVE_LOSSES) and alerts. Then, as an operator would: ``incident capture``
(6.1.1–6.1.6), ``incident report`` (§6.6), a resume attempted before the root cause is documented (refused),
``incident document`` (§6.3), ``incident resume`` (6.4.1–6.4.8, §6.5). The operator's text (detection, root cause,
fix) is read from the sandbox env (INCIDENT_DETECTION, INCIDENT_ROOT_CAUSE, INCIDENT_FIX) with defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ops_checks.access import kill_switch_state
from ops_checks.access.db import connect
from ops_checks.core import poll
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified
from ops_checks.drills import base as drill_base
from ops_checks.procedures import incident, incident_report, incident_resume
from ops_checks.sandbox.environment import Sandbox

OPERATOR = "sandbox-operator"
TRIP_WAIT_S = 2.0
DEFAULTS = {
    "INCIDENT_DETECTION": "Discord alert [CIRCUIT_BREAKER] MAX_CONSECUTIVE_LOSSES",
    "INCIDENT_ROOT_CAUSE": "three consecutive losing BTCZAR trades in a fast market; limits acted as designed",
    "INCIDENT_FIX": "none applicable: no defect; the breaker worked (reviewed by the witness)",
}

_LOSSES = """
WITH sig AS (
    INSERT INTO signals (signal_id, symbol, side, price, quantity, raw_payload, source_ip, hmac_verified, created_at)
    SELECT 'INCIDENT-DRILL-' || n, 'BTCZAR', 'BUY', 1200000.0000000000, 0.0010000000,
           jsonb_build_object('symbol', 'BTCZAR', 'source', 'incident drill'), '127.0.0.1', true,
           now() - make_interval(mins => 10 * n)
    FROM generate_series(1, 3) AS n
    RETURNING correlation_id, signal_id, created_at
)
INSERT INTO trading_orders (correlation_id, order_id, pair, side, quantity, execution_price, zar_value, status,
                            is_mock, is_simulated, execution_mode, realized_pnl_zar, created_at)
SELECT correlation_id, signal_id, 'BTCZAR', 'BUY', 0.0010000000, 1200000.0000000000, 1200.00, 'FILLED',
       false, false, 'LIVE', -412.35 - right(signal_id, 1)::int, created_at + interval '1 second'
FROM sig ORDER BY created_at"""


@dataclass(repr=False)
class Drill(drill_base.Drill):
    capture: incident.Capture | None = None
    report: str = ""
    refused_without_root_cause: str = ""
    resume: incident_resume.Resume | None = None
    problem: str = ""
    evidence: list[Evidence] = field(default_factory=list)

    def capture_cause(self) -> Cause:
        """Why there is no capture: one cause for every §6.1 row (each would otherwise repeat it)."""
        return Cause(
            "incident_capture",
            "opscheck incident capture",
            f"the incident capture failed: {self.problem}",
            "fix what the capture reports, then run `opscheck incident capture --allow-mutations` again",
        )

    def action(self, item: str) -> CheckResult:
        if self.capture is None:
            return failed("no capture", item, f"incident capture failed: {self.problem}", cause=self.capture_cause())
        result = self.capture.result(item)
        result.evidence.extend(self.evidence)
        return result

    def outcome(self, item: str) -> CheckResult:
        """6.1.x from the capture (``action``), 6.4.x from the resume (``check``)."""
        return self.action(item) if item.startswith("6.1.") else self.check(item)

    def not_reached(self, item: str) -> CheckResult | None:
        if not item.startswith("6.4."):
            return None
        if self.capture is None:
            return not_verified("no resume attempted: the incident capture failed", cause=self.capture_cause())
        if self.resume is None:
            return not_verified(
                f"no resume attempted: {self.problem}",
                cause=Cause(
                    "incident_resume",
                    "opscheck incident resume",
                    f"the incident could not be documented or resumed: {self.problem}",
                    "fix what `opscheck incident document` / `opscheck incident resume` report, then run them again",
                ),
            )
        return self.resume.not_reached(item)

    def check(self, item: str) -> CheckResult:
        assert self.resume is not None
        result = self.resume.result(item) or failed("not reached", item, "the resume did not reach this check")
        result.evidence.extend(self.evidence)
        if item == "6.4.1" and result.ok and not self.refused_without_root_cause:
            return failed(
                "not enforced",
                "Documented",
                "a resume before the root cause was documented was NOT refused",
                *result.evidence,
            )
        return result


def trigger_incident(sb: Sandbox) -> bool:
    """Yesterday's session, three losing trades; returns whether the bot tripped the circuit breaker in time."""
    sb.admin(_LOSSES)
    sb.admin(
        "UPDATE system_settings SET daily_pnl_reset_at = now() - interval '1 day', daily_pnl_zar = -1243.05,"
        " daily_pnl_pct = -0.012431, consecutive_losses = max_consecutive_losses WHERE id = 1"
    )
    t = sb.target
    assert t is not None

    def tripped() -> bool:
        with connect(t.db, t.redactor) as db:
            return kill_switch_state.read_state(db).active

    return poll.until(tripped, TRIP_WAIT_S, 0.05) is not None


def run(sb: Sandbox, workdir: Path) -> Drill:
    t = sb.target
    assert t is not None
    drill = Drill()
    env = {k: sb.env.get(k, v) for k, v in DEFAULTS.items()}
    tripped = trigger_incident(sb)
    try:
        drill.capture = incident.capture(
            t, out_root=workdir / "incidents", operator=OPERATOR, detection=env["INCIDENT_DETECTION"]
        )
    except incident.IncidentError as exc:
        drill.problem = str(exc)
        return drill
    iid = drill.capture.incident_id
    drill.evidence.append(Evidence("incident drill", f"breaker tripped by the bot: {tripped}; incident {iid}"))
    report_path = workdir / "incidents" / f"{iid}-report.md"
    try:
        drill.report = incident_report.write(t, iid, report_path).read_text()
    except incident.IncidentError as exc:
        drill.report = f"report not produced: {exc}"
    try:
        early = incident_resume.resume(t, iid, operator=OPERATOR)
        drill.refused_without_root_cause = "" if early.resumed else early.stopped
        incident.document(t, iid, root_cause=env["INCIDENT_ROOT_CAUSE"], fix=env["INCIDENT_FIX"], operator=OPERATOR)
        drill.resume = incident_resume.resume(t, iid, operator=OPERATOR)
    except incident.IncidentError as exc:
        drill.problem = str(exc)
    try:
        drill.report = incident_report.write(t, iid, report_path).read_text()
    except incident.IncidentError as exc:
        drill.report = f"report not produced: {exc}"
    drill.evidence.append(Evidence("§6.6 incident report", drill.report, "text/markdown"))
    drill.evidence.append(
        Evidence("resume before the root cause was documented", drill.refused_without_root_cause or "NOT refused")
    )
    return drill
