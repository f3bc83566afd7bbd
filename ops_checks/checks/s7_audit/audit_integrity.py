"""Runbook §7.5 Audit Data Integrity Verification: no missing day, no gap, every trade has a policy decision.

"While the bot was running" is taken from the data: from the first policy decision ever recorded (or the start of
the 30-day window, whichever is later) up to now. A whole UTC day without decisions is item 7.5.1's finding;
a silence longer than the gap threshold that does not swallow a whole day is item 7.5.2's: each root cause is
reported by exactly one item.
"""

from __future__ import annotations

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.checks import causes
from ops_checks.checks.s7_audit.audit_rows import csv_evidence
from ops_checks.core.result import CheckResult, failed, passed

DAILY = """
WITH bounds AS (
    SELECT GREATEST(MIN(timestamp_utc), now() - make_interval(days => %(days)s)) AS since FROM policy_decision_audit
), days AS (
    SELECT d::date AS date
    FROM bounds, generate_series(date_trunc('day', bounds.since), date_trunc('day', now()), interval '1 day') AS d
    WHERE bounds.since IS NOT NULL
), counts AS (
    SELECT date_trunc('day', p.timestamp_utc)::date AS date, COUNT(*) AS decision_count,
           MIN(p.timestamp_utc) AS first_decision, MAX(p.timestamp_utc) AS last_decision
    FROM policy_decision_audit p, bounds
    WHERE p.timestamp_utc >= date_trunc('day', bounds.since)
    GROUP BY 1
)
SELECT days.date, COALESCE(counts.decision_count, 0) AS decision_count, counts.first_decision, counts.last_decision
FROM days LEFT JOIN counts USING (date)
ORDER BY days.date
"""

GAPS = """
WITH w AS (
    SELECT timestamp_utc AS ts, LAG(timestamp_utc) OVER (ORDER BY timestamp_utc) AS prev
    FROM policy_decision_audit
    WHERE timestamp_utc >= now() - make_interval(days => %(days)s)
)
SELECT prev AS gap_start, ts AS gap_end, EXTRACT(EPOCH FROM ts - prev)::bigint AS gap_s,
       date_trunc('day', ts) - date_trunc('day', prev) >= interval '2 days' AS spans_missing_day
FROM w
WHERE ts - prev > make_interval(secs => %(max_gap)s)
ORDER BY gap_s DESC
LIMIT 200
"""

ORPHANS = """
SELECT t.order_id, t.correlation_id, t.created_at, 'MISSING' AS policy_status, COUNT(*) OVER () AS orphans
FROM trading_orders t
WHERE t.created_at >= now() - make_interval(days => %(days)s)
  AND NOT EXISTS (SELECT 1 FROM policy_decision_audit p WHERE p.correlation_id = t.correlation_id)
ORDER BY t.created_at
LIMIT %(limit)s
"""


def missing_days(t: Target) -> CheckResult:
    """7.5.1: every UTC day of the last 30 (since the first decision ever) has policy decisions."""
    s = t.thresholds
    expected = f"decisions on every day of the last {s.audit_window_days} while the bot was running"
    try:
        with connect(t.db, t.redactor) as db:
            days = db.rows(DAILY, {"days": s.audit_window_days})
            ev = [db.log.evidence(), csv_evidence("decisions per day (CSV)", days, t.redactor)]
    except DbError as exc:
        return failed("query failed", expected, str(exc))
    if not days:
        return failed(
            "no decisions", expected, "policy_decision_audit holds no decisions at all", *ev, cause=causes.NO_DECISIONS
        )
    empty = [str(d["date"]) for d in days if not d["decision_count"]]
    observed = f"{len(days)} day(s) since {days[0]['date']}, {len(empty)} without decisions"
    if empty:
        listed = ", ".join(empty[:5]) + (f" (+{len(empty) - 5} more)" if len(empty) > 5 else "")
        none_at_all = len(empty) == len(days)  # not a gap: the bot has recorded nothing in the window
        return failed(
            observed,
            expected,
            f"{len(empty)} day(s) without any policy decision: {listed}",
            *ev,
            cause=causes.NO_DECISIONS if none_at_all else None,
        )
    return passed(observed, expected, "", *ev)


def decision_gaps(t: Target) -> CheckResult:
    """7.5.2: no silence in the decision log longer than the threshold (whole missing days are 7.5.1's)."""
    s = t.thresholds
    expected = f"no gap over {s.audit_max_gap_s} s in the last {s.audit_window_days} days"
    try:
        with connect(t.db, t.redactor) as db:
            rows = db.rows(GAPS, {"days": s.audit_window_days, "max_gap": s.audit_max_gap_s})
            ev = [db.log.evidence(), csv_evidence("gaps over the threshold (CSV)", rows, t.redactor)]
    except DbError as exc:
        return failed("query failed", expected, str(exc))
    gaps = [r for r in rows if not r["spans_missing_day"]]
    observed = f"{len(gaps)} gap(s) over {s.audit_max_gap_s} s ({len(rows) - len(gaps)} spanning a missing day)"
    if gaps:
        g = gaps[0]
        return failed(
            observed,
            expected,
            f"{len(gaps)} gap(s) in decisions; longest {int(g['gap_s'])} s from {g['gap_start']} to {g['gap_end']}",
            *ev,
        )
    return passed(observed, expected, "", *ev)


def orphan_trades(t: Target) -> CheckResult:
    """7.5.3: every trade of the last 30 days has a policy decision under its correlation id (orphans listed)."""
    s = t.thresholds
    expected = "every trade has a policy decision"
    try:
        with connect(t.db, t.redactor) as db:
            rows = db.rows(ORPHANS, {"days": s.audit_window_days, "limit": s.audit_max_report_rows})
            total = int(rows[0]["orphans"]) if rows else 0
            ev = [
                db.log.evidence(),
                csv_evidence(
                    "orphan trades (CSV)",
                    rows,
                    t.redactor,
                    total=total,
                    columns=("order_id", "correlation_id", "created_at", "policy_status"),
                ),
            ]
    except DbError as exc:
        return failed("query failed", expected, str(exc))
    if total:
        first = rows[0]
        return failed(
            f"{total} orphan trade(s)",
            expected,
            f"{total} trade(s) without a policy decision, first {first['order_id']} "
            f"(correlation_id {first['correlation_id'] or 'NULL'})",
            *ev,
        )
    return passed("0 orphan trades", expected, f"no orphan trades in the last {s.audit_window_days} days", *ev)
