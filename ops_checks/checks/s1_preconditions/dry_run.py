"""Runbook §1.6: DRY_RUN validation — mode, a signed test signal end to end, decisions logged, the 24 h review."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from ops_checks.access import botapi
from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.access.webhook_signal import TEST_SIGNAL_PREFIX, send_signal, sign
from ops_checks.checks import causes
from ops_checks.core import readings
from ops_checks.core.result import CheckResult, failed, passed

SNAPSHOT_KEYS = ("kill_switch_active", "budget_signal", "health_status", "risk_assessment")


def execution_mode(t: Target) -> CheckResult:
    """1.6.1: EXECUTION_MODE is the mode this preflight is for (DRY_RUN), and the running bot reports the same.

    Where the bot reports its mode is ``botapi.execution_mode`` (the real bot reports it nowhere: a failure
    that names both sides)."""
    expected = t.value("EXPECTED_EXECUTION_MODE", "DRY_RUN")
    actual = t.value("EXECUTION_MODE")
    if actual != expected:
        cause = causes.flag("EXECUTION_MODE", actual, f"expected {expected}", expected)
        return failed(actual or "not set", expected, cause.detail, cause=cause)
    if expected == "DRY_RUN" and t.value("LIVE_TRADING_CONFIRMED").upper() == "TRUE":
        cause = causes.malformed(
            "LIVE_TRADING_CONFIRMED", "LIVE_TRADING_CONFIRMED is TRUE in DRY_RUN", "FALSE (or remove the line)"
        )
        return failed("LIVE_TRADING_CONFIRMED=TRUE", "unset in DRY_RUN", cause.detail, cause=cause)
    reported = botapi.execution_mode(t)
    if isinstance(reported, CheckResult):
        return reported
    if reported != expected:
        return failed(f"env {actual}, bot {reported}", expected, f"bot reports execution_mode={reported}")
    return passed(f"env {actual}, bot {reported}", expected, "")


def sign_signal(secret: str, body: bytes) -> str:  # kept for older callers: ops_checks.access.webhook_signal.sign
    return sign(secret, body)


_TEST_SIGNAL_ROWS = """
SELECT
    (SELECT count(*) FROM signals WHERE correlation_id = %(cid)s) AS signals,
    (SELECT count(*) FROM trading_orders WHERE correlation_id = %(cid)s AND execution_mode = 'LIVE') AS live_orders
"""


def test_signal(t: Target, exchange_orders: Callable[[], int] | None = None) -> CheckResult:
    """1.6.2 (mutating): a signed test signal (the real body, signed as the bot verifies it) is accepted, stored in
    ``signals`` under the correlation id the bot answers with, decided in ``policy_decision_audit`` (the runbook's
    §4.1 promise), and reaches the exchange as no real order. ``exchange_orders``: the exchange's order count, by
    default the target's own where it can tell (the sandbox's simulator; live cannot)."""
    exchange_orders = exchange_orders or t.exchange_orders
    before = exchange_orders() if exchange_orders else None
    reply = send_signal(t)
    ev = list(reply.evidence)
    expected = "accepted, decided and logged, no real order"
    if reply.error is not None:
        return failed("no answer", expected, reply.error, *ev, cause=reply.cause)
    if not reply.accepted or not reply.correlation_id:
        return failed(reply.describe(), expected, f"bot refused the signed test signal: {reply.describe()}", *ev)
    cid = reply.correlation_id
    try:
        uuid.UUID(cid)
    except ValueError:
        return failed(cid, "a uuid correlation_id", f"bot answered a correlation_id that is not a uuid: {cid!r}", *ev)
    try:
        with connect(t.db, t.redactor) as db:
            rows = db.one(_TEST_SIGNAL_ROWS, {"cid": cid})
            logged = db.rows(
                "SELECT policy_decision, reason_code, timestamp_utc FROM policy_decision_audit "
                "WHERE correlation_id = %s",
                (cid,),
            )
            ev.append(db.log.evidence())
    except DbError as exc:
        return failed(reply.describe(), expected, f"cannot read the audit trail: {exc}", *ev)
    after = exchange_orders() if exchange_orders else None
    if not rows or not rows["signals"]:
        return failed("not stored", "a signals row", f"signal {reply.signal_id} ({cid}) has no signals row", *ev)
    if rows["live_orders"] or reply.answer.get("order_submitted") or (before is not None and after != before):
        return failed("real order placed", "no real order", f"test signal {cid} reached the exchange as an order", *ev)
    if not logged:
        return failed(
            f"accepted ({reply.trade_decision or '?'}), no PolicyDecision",
            "a policy_decision_audit row",
            f"runbook §1.6/§4.1: every signal gets a PolicyDecision; the bot recorded none for {cid} in "
            "policy_decision_audit (it answered trade_decision "
            f"{reply.trade_decision or 'absent'})",
            *ev,
            cause=causes.NO_DECISIONS,
        )
    decision = logged[0]["policy_decision"]
    return passed(f"{decision} logged, no order", expected, f"signal {reply.signal_id} ({cid}): {decision}", *ev)


def decisions_logged(t: Target) -> CheckResult:
    """1.6.3: the bot logged a PolicyDecision recently, with the inputs it decided on."""
    fresh = t.thresholds.decisions_fresh_s
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one(
                "SELECT correlation_id, policy_decision, reason_code, context_snapshot, timestamp_utc, "
                "EXTRACT(EPOCH FROM now() - timestamp_utc) AS age_s FROM policy_decision_audit "
                "WHERE coalesce(context_snapshot->>'signal_id', '') NOT LIKE %s ORDER BY timestamp_utc DESC LIMIT 1",
                (TEST_SIGNAL_PREFIX + "%",),
            )
            ev = db.log.evidence()
    except DbError as exc:
        return failed("query failed", f"a decision within {fresh} s", str(exc))
    if row is None:
        return failed(
            "no decisions",
            f"a decision within {fresh} s",
            "policy_decision_audit holds no decisions",
            ev,
            cause=causes.NO_DECISIONS,
        )
    try:
        age = readings.seconds_ago(row["age_s"], "the latest decision's age")
    except readings.BadReading as exc:
        return failed("impossible age", f"within {fresh} s", str(exc), ev)
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
        AND NOT (reason_code = 'HALT_KILL_SWITCH'
                 AND context_snapshot->>'kill_switch_reason' LIKE 'VERIFICATION_TEST%%'))
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
            r = db.one(_REVIEW, {"hours": hours})
            ev = db.log.evidence()
    except DbError as exc:
        return failed("query failed", "no anomalies", str(exc))
    assert r is not None
    if not r["decisions"]:
        return failed(
            "no decisions",
            f"{hours} h of decisions",
            f"no policy decisions in the last {hours} h",
            ev,
            cause=causes.NO_DECISIONS,
        )
    problems = []
    try:
        lead = readings.seconds_ago(r["lead_s"], "the period's first decision (seconds late)")
        gaps = [
            readings.number(r["max_gap_s"] or 0, "the longest gap (s)"),
            readings.seconds_ago(r["tail_s"], "the latest decision's age"),
        ]
        counts = {
            k: readings.count(r[k], k)
            for k in ("decisions", "unexplained_halts", "errors", "neutrals", "live_orders", "failed_orders")
        }
    except readings.BadReading as exc:
        return failed("impossible value", "no anomalies", f"{hours} h DRY_RUN review: {exc}", ev)
    if lead > max_gap:
        problems.append(f"period starts {lead / 3600:.1f} h late (first decision {r['first_at']})")
    if max(gaps) > max_gap:
        problems.append(f"gap of {max(gaps) / 60:.0f} min in decisions (ending {r['max_gap_end'] or 'now'})")
    for key, label in (
        ("unexplained_halts", "HALT decisions"),
        ("errors", "error decisions"),
        ("live_orders", "LIVE orders"),
        ("failed_orders", "failed orders"),
    ):
        if counts[key]:
            problems.append(f"{counts[key]} {label}")
    observed = (
        f"{counts['decisions']} decisions, max gap {gaps[0]:.0f} s, "
        f"{counts['neutrals']} NEUTRAL, {counts['unexplained_halts']} HALT, {counts['live_orders']} LIVE orders"
    )
    if problems:
        return failed(observed, "no anomalies", f"{hours} h DRY_RUN review: " + "; ".join(problems), ev)
    return passed(observed, "no anomalies", observed, ev)
