"""Runbook §1.6: DRY_RUN validation — mode, a signed test signal end to end, decisions logged, the 24 h review."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable

from ops_checks.config import Target
from ops_checks.db import DbError, connect
from ops_checks.http import HttpError, Recorder, json_body, request
from ops_checks.result import CheckResult, Evidence, failed, passed

SNAPSHOT_KEYS = ("kill_switch_active", "budget_signal", "health_status", "risk_assessment")


def execution_mode(t: Target) -> CheckResult:
    """1.6.1: EXECUTION_MODE is the mode this preflight is for (DRY_RUN), and the bot reports the same."""
    expected = t.value("EXPECTED_EXECUTION_MODE", "DRY_RUN")
    actual = t.value("EXECUTION_MODE")
    if actual != expected:
        return failed(actual or "not set", expected, f"EXECUTION_MODE is {actual or 'not set'!r}, expected {expected}")
    if expected == "DRY_RUN" and t.value("LIVE_TRADING_CONFIRMED").upper() == "TRUE":
        return failed("LIVE_TRADING_CONFIRMED=TRUE", "unset in DRY_RUN", "LIVE_TRADING_CONFIRMED is TRUE in DRY_RUN")
    rec = Recorder(t.redactor)
    try:
        body = json_body(request("GET", t.bot_api_url + t.bot_health_path, recorder=rec))
    except HttpError as exc:
        return failed(actual, expected, f"bot's mode unknown: {exc}", Evidence("HTTP", rec.render()))
    ev = Evidence("HTTP", rec.render())
    reported = body.get("execution_mode") if isinstance(body, dict) else None
    if reported is not None and reported != expected:
        return failed(f"env {actual}, bot {reported}", expected, f"bot reports execution_mode={reported}", ev)
    return passed(f"env {actual}, bot {reported or 'not reported'}", expected, "", ev)


def sign_signal(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_signal(t: Target, exchange_orders: Callable[[], int] | None = None) -> CheckResult:
    """1.6.2: a signed test signal is decided and logged under its correlation id, and no real order is placed."""
    secret = t.secret("WEBHOOK_SECRET")
    if not secret:
        return failed("not set", "signed signal", "WEBHOOK_SECRET is not set")
    cid = f"OPSCHECK-{uuid.uuid4().hex[:16]}"
    body = json.dumps(
        {"correlation_id": cid, "symbol": "BTCZAR", "side": "BUY", "quantity": "0.0001", "test": True}
    ).encode()
    rec = Recorder(t.redactor)
    before = exchange_orders() if exchange_orders else None
    try:
        resp = request(
            "POST",
            t.bot_api_url + t.bot_signal_path,
            recorder=rec,
            content=body,
            headers={"Content-Type": "application/json", "X-Signature": sign_signal(secret.reveal(), body)},
        )
        answer = json_body(resp)
    except HttpError as exc:
        return failed("no answer", "signal decided", str(exc), Evidence("HTTP", rec.render()))
    ev = [Evidence("HTTP", rec.render())]
    if resp.status_code != 200 or not isinstance(answer, dict) or "decision" not in answer:
        return failed(
            f"HTTP {resp.status_code}",
            "HTTP 200 with a decision",
            f"bot refused the signed test signal: HTTP {resp.status_code}",
            *ev,
        )
    try:
        with connect(t.db, t.redactor) as db:
            logged = db.rows(
                "SELECT policy_decision, reason_code, timestamp_utc FROM policy_decision_audit "
                "WHERE correlation_id = %s",
                (cid,),
            )
            live = db.rows(
                "SELECT order_id, status FROM trading_orders WHERE correlation_id = %s AND execution_mode = 'LIVE'",
                (cid,),
            )
            ev.append(db.log.evidence())
    except DbError as exc:
        return failed(answer.get("decision"), "logged", f"cannot read the audit trail: {exc}", *ev)
    after = exchange_orders() if exchange_orders else None
    if not logged:
        return failed("not logged", "policy_decision_audit row", f"signal {cid} has no policy_decision_audit row", *ev)
    if live or answer.get("order_submitted") or (before is not None and after != before):
        return failed("real order placed", "no real order", f"test signal {cid} reached the exchange as an order", *ev)
    decision = logged[0]["policy_decision"]
    return passed(f"{decision} logged, no order", "logged, no real order", f"signal {cid}: {decision}", *ev)


def decisions_logged(t: Target) -> CheckResult:
    """1.6.3: the bot logged a PolicyDecision recently, with the inputs it decided on."""
    fresh = t.thresholds.decisions_fresh_s
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one(
                "SELECT correlation_id, policy_decision, reason_code, context_snapshot, timestamp_utc, "
                "EXTRACT(EPOCH FROM now() - timestamp_utc) AS age_s FROM policy_decision_audit "
                "WHERE correlation_id NOT LIKE 'OPSCHECK-%%' ORDER BY timestamp_utc DESC LIMIT 1"
            )
            ev = db.log.evidence()
    except DbError as exc:
        return failed("query failed", f"a decision within {fresh} s", str(exc))
    if row is None:
        return failed("no decisions", f"a decision within {fresh} s", "policy_decision_audit holds no decisions", ev)
    age = float(row["age_s"])
    if age > fresh:
        return failed(
            f"last decision {age:.1f} s ago",
            f"within {fresh} s",
            f"no policy decision logged for {age:.1f} s (limit {fresh} s)",
            ev,
        )
    snapshot = row["context_snapshot"] or {}
    missing = [k for k in SNAPSHOT_KEYS if k not in snapshot]
    if missing:
        return failed(snapshot, list(SNAPSHOT_KEYS), f"decision logged without its inputs: {', '.join(missing)}", ev)
    return passed(f"{row['policy_decision']} {age:.1f} s ago", f"within {fresh} s", "", ev)


_REVIEW = """
WITH w AS (
    SELECT timestamp_utc, policy_decision, reason_code, context_snapshot,
           timestamp_utc - LAG(timestamp_utc) OVER (ORDER BY timestamp_utc) AS gap
    FROM policy_decision_audit
    WHERE timestamp_utc >= now() - make_interval(hours => %(hours)s)
)
SELECT
    (SELECT COUNT(*) FROM w) AS decisions,
    (SELECT MIN(timestamp_utc) FROM w) AS first_at,
    EXTRACT(EPOCH FROM (SELECT MIN(timestamp_utc) FROM w) - (now() - make_interval(hours => %(hours)s))) AS lead_s,
    EXTRACT(EPOCH FROM now() - (SELECT MAX(timestamp_utc) FROM w)) AS tail_s,
    EXTRACT(EPOCH FROM (SELECT MAX(gap) FROM w)) AS max_gap_s,
    (SELECT MAX(timestamp_utc) FROM w WHERE gap = (SELECT MAX(gap) FROM w)) AS max_gap_end,
    (SELECT COUNT(*) FROM w WHERE policy_decision = 'HALT'
        AND NOT (reason_code = 'HALT_KILL_SWITCH' AND context_snapshot->>'kill_switch_reason' = 'VERIFICATION_TEST'))
        AS unexplained_halts,
    (SELECT COUNT(*) FROM w WHERE reason_code LIKE 'ERROR%%' OR policy_decision = 'ERROR') AS errors,
    (SELECT COUNT(*) FROM w WHERE policy_decision = 'NEUTRAL') AS neutrals,
    (SELECT COUNT(*) FROM trading_orders WHERE created_at >= now() - make_interval(hours => %(hours)s)
        AND execution_mode = 'LIVE') AS live_orders,
    (SELECT COUNT(*) FROM trading_orders WHERE created_at >= now() - make_interval(hours => %(hours)s)
        AND status IN ('REJECTED', 'ERROR', 'FAILED')) AS failed_orders
"""


def dry_run_review(t: Target) -> CheckResult:
    """1.6.4: the last 24 h were a complete DRY_RUN period without anomalies.

    Anomalies: a gap in decisions longer than the threshold (or a period shorter than 24 h), HALT decisions
    other than kill-switch verification tests, error decisions, LIVE orders, failed orders. NEUTRAL decisions
    (the safe fallback for degraded health) are counted in the evidence but do not fail the review.
    """
    hours, max_gap = t.thresholds.dry_run_period_h, t.thresholds.dry_run_max_gap_s
    try:
        with connect(t.db, t.redactor) as db:
            r = db.one(_REVIEW, {"hours": hours})  # type: ignore[arg-type]
            ev = db.log.evidence()
    except DbError as exc:
        return failed("query failed", "no anomalies", str(exc))
    assert r is not None
    if not r["decisions"]:
        return failed("no decisions", f"{hours} h of decisions", f"no policy decisions in the last {hours} h", ev)
    problems = []
    if float(r["lead_s"]) > max_gap:
        problems.append(f"period starts {float(r['lead_s']) / 3600:.1f} h late (first decision {r['first_at']})")
    gaps = [float(r["max_gap_s"] or 0), float(r["tail_s"])]
    if max(gaps) > max_gap:
        problems.append(f"gap of {max(gaps) / 60:.0f} min in decisions (ending {r['max_gap_end'] or 'now'})")
    for key, label in (
        ("unexplained_halts", "HALT decisions"),
        ("errors", "error decisions"),
        ("live_orders", "LIVE orders"),
        ("failed_orders", "failed orders"),
    ):
        if r[key]:
            problems.append(f"{r[key]} {label}")
    observed = (
        f"{r['decisions']} decisions, max gap {float(r['max_gap_s'] or 0):.0f} s, "
        f"{r['neutrals']} NEUTRAL, {r['unexplained_halts']} HALT, {r['live_orders']} LIVE orders"
    )
    if problems:
        return failed(observed, "no anomalies", f"{hours} h DRY_RUN review: " + "; ".join(problems), ev)
    return passed(observed, "no anomalies", observed, ev)
