"""Incident SOP prevention checklist, each box with its own evidence.

Daily (part of every preflight): sop.daily.1 no ERROR lines in the bot's recent logs; sop.daily.2 the bot exports
its exchange-latency metric; sop.daily.3 resting orders within MAX_RISK_ZAR; sop.daily.4 a kill-switch test
(activation and release in circuit_breaker_events) within the last 26 h.
Weekly (``--cadence weekly``): sop.weekly.1 logs rotated (no log file's first line older than 7 days); sop.weekly.2
runbooks reviewed and sop.weekly.3 incidents reviewed (``checks/sop/reviews.py``); sop.weekly.4 the backup restore drill
(``drills/restore_drill.py``).
Monthly (``--cadence monthly``): sop.monthly.1 the VALR key rotated within 31 days (secret_rotations); sop.monthly.2
the security audit (``checks/sop/security_audit.py``); sop.monthly.3 the recorded DR drill
(``drills/restore_drill.py``); sop.monthly.4 the escalation contact list (``checks/sop/contacts.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.access.prometheus import BadMetric, MetricsError, scrape
from ops_checks.access.valr.client import ValrError
from ops_checks.checks.bot_sources import (
    SUITE_SCHEMA,
    db_unreadable,
    level,
    logs_unreadable,
    metrics_unreadable,
    undeclared,
    untimestamped,
    valr_cause,
)
from ops_checks.checks.s1_preconditions import logs
from ops_checks.checks.s1_preconditions.exchange import open_orders
from ops_checks.checks.s1_preconditions.limits import parse_zar
from ops_checks.core import readings
from ops_checks.core.http import Recorder
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed

KILL_SWITCH_TEST_MAX_AGE_H = 26
KILL_SWITCH_TEST = ("4.4.2", "4.4.5")  # this run's own kill-switch test: its activation and its release
ERROR_LEVELS = ("ERROR", "CRITICAL")
LATENCY = "sop_metric_exchange_latency"
LOG_ROTATION_DAYS = 7
KEY_ROTATION_DAYS = 31
ROTATED_KEYS = ("VALR_API_KEY", "VALR_API_SECRET")

# The real circuit_breaker_events (migration 011): MANUAL_LOCK on activation, MANUAL_UNLOCK on release, no operator
# column; who ran the test is in the suite's opscheck.ops_prevention_records (activity kill_switch_test).
_LAST_TEST = """
SELECT a.created_at AS activated_at, r.created_at AS released_at
FROM circuit_breaker_events a
JOIN LATERAL (
    SELECT created_at FROM circuit_breaker_events r
    WHERE r.created_at >= a.created_at AND r.event_type = 'MANUAL_UNLOCK' ORDER BY r.created_at, r.id LIMIT 1
) r ON true
WHERE a.event_type = 'MANUAL_LOCK'
ORDER BY a.created_at DESC LIMIT 1"""

_TEST_RUN_BY = """
SELECT performed_by, performed_at, outcome FROM opscheck.ops_prevention_records
WHERE activity = 'kill_switch_test'
  AND performed_at >= %s - interval '1 hour' AND performed_at <= %s + interval '1 hour'
ORDER BY performed_at DESC LIMIT 1"""


def error_logs_clean(t: Target) -> CheckResult:
    """sop.daily.1: no ERROR (or CRITICAL) line in the bot's logs within the log window, the level read in the real
    bot's format (``… | ERROR | logger | message``, main.py's basicConfig) as in the reference bot's."""
    expected = "no ERROR lines"
    since = datetime.now(UTC) - timedelta(seconds=t.thresholds.log_window_s)
    try:
        errors = [ln for ln in logs.recent_lines(t.log_dir, since) if level(ln.text) in ERROR_LEVELS]
    except logs.LogError as exc:
        return logs_unreadable(t, str(exc))
    if not errors and (blind := untimestamped(t)) is not None:
        return blind
    window = f"last {t.thresholds.log_window_s} s"
    if errors:
        shown = "\n".join(f"{ln.at.isoformat()} {ln.file}: {t.redactor.text(ln.text)}" for ln in errors[-20:])
        first = t.redactor.text(errors[-1].text)[:160]
        detail = f"{len(errors)} ERROR line(s) in the {window}: {first}"
        return failed(
            f"{len(errors)} ERROR lines",
            expected,
            detail,
            Evidence("ERROR lines", shown),
            cause=Cause(
                "bot_errors",
                "the bot's ERROR log lines",
                f"the bot logged {len(errors)} ERROR line(s) in the {window}",
                f"review the ERROR lines (evidence; grep -E '\\| (ERROR|CRITICAL) \\|' {t.log_dir}/*.log) and fix what "
                "they report (SOP prevention, daily)",
            ),
        )
    return passed("0 ERROR lines", expected, f"no ERROR lines in the {window}", Evidence("window", f"since {since}"))


def latency_metric_exported(t: Target) -> CheckResult:
    """sop.daily.2: the bot exports its exchange latency quantiles, so latency can be checked. The SOP names no
    metric: its source is declared (``BOT_METRIC_EXCHANGE_LATENCY``), else the item is not verified."""
    if (missing := undeclared(t, LATENCY)) is not None:
        return missing
    name = str(t.profile.sop_metric_exchange_latency)
    expected = f'{name}{{quantile="0.5|0.95|0.99"}}'
    try:
        m = scrape(t)
    except MetricsError as exc:
        return metrics_unreadable(t, str(exc))
    try:
        values = {q: m.number(name, "SOP daily latency metrics", quantile=q) for q in ("0.5", "0.95", "0.99")}
    except BadMetric as exc:
        return failed(
            "impossible value",
            expected,
            f"the bot's latency metric: {exc}",
            m.evidence(name),
            cause=Cause(
                "bot_defect",
                f"metric {name}",
                f"the bot exports an impossible latency: {exc}",
                f"fix the bot's {name}: a latency in ms, finite and >= 0",
            ),
        )
    except MetricsError as exc:
        return failed(
            "absent",
            expected,
            str(exc),
            m.evidence(name),
            cause=Cause(
                "source_absent",
                name,
                f"the bot does not export {name}, declared for the exchange latency (BOT_METRIC_EXCHANGE_LATENCY): "
                f"{exc}",
                "declare the metric the bot exports for its exchange latency (BOT_METRIC_EXCHANGE_LATENCY=<metric "
                f'name> in the env file, quantile labels "0.5", "0.95", "0.99"), or make the bot export {name}',
            ),
        )
    observed = ", ".join(f"p{float(q) * 100:g} {v:.1f} ms" for q, v in values.items())
    return passed(observed, expected, f"bot latency {observed}", m.evidence(name))


def resting_orders_within_risk(t: Target) -> CheckResult:
    """sop.daily.3: the ZAR value of the orders resting on VALR is within MAX_RISK_ZAR."""
    raw = t.value("MAX_RISK_ZAR")
    if not raw.strip():
        detail = "MAX_RISK_ZAR is not set: the position limit is unknown"
        return not_verified(
            detail,
            cause=Cause(
                "setting", "MAX_RISK_ZAR", detail, "MAX_RISK_ZAR=<the bot's risk limit in ZAR> in the env file"
            ),
            expected="MAX_RISK_ZAR",
        )
    try:
        limit = parse_zar(raw)
    except ValueError as exc:
        detail = f"MAX_RISK_ZAR is {exc}: the position limit is unknown"
        return failed(
            "malformed",
            "MAX_RISK_ZAR",
            detail,
            cause=Cause("setting", "MAX_RISK_ZAR", detail, "MAX_RISK_ZAR=<a number of ZAR, e.g. 5000> in the env file"),
        )
    expected = f"resting orders <= R{limit}"
    rec = Recorder(t.redactor)
    try:
        orders = open_orders(t, rec)
        exposure = sum(
            (
                readings.amount(o.get("remainingQuantity"), "open order remainingQuantity", text=True)
                * readings.amount(o.get("price"), "open order price", text=True)
                for o in orders
                if str(o.get("currencyPair", "")).endswith("ZAR")
            ),
            Decimal(0),
        )
    except ValrError as exc:
        return failed(
            "unreadable",
            expected,
            f"open orders unreadable: {exc}",
            Evidence("HTTP", rec.render()),
            cause=valr_cause(t, exc, "GET /v1/orders/open"),
        )
    except readings.BadReading as exc:
        return failed(
            "unreadable",
            expected,
            f"open orders unreadable: {exc}",
            Evidence("HTTP", rec.render()),
            cause=Cause(
                "exchange_error",
                "VALR open orders",
                f"VALR's open orders: {exc}",
                "check VALR's answer in the evidence and re-run",
            ),
        )
    observed = f"{len(orders)} resting order(s) worth R{exposure:.2f}"
    ev = Evidence("HTTP", rec.render())
    if exposure > limit:
        detail = f"{observed}: above MAX_RISK_ZAR R{limit}"
        return failed(
            observed,
            expected,
            detail,
            ev,
            cause=Cause(
                "position_limit",
                "resting orders",
                detail,
                "cancel or reduce the resting orders until their value is within MAX_RISK_ZAR (SOP prevention, daily)",
            ),
        )
    return passed(observed, expected, observed, ev)


def kill_switch_tested_recently(t: Target) -> CheckResult:
    """sop.daily.4: the last kill-switch test (a MANUAL_LOCK, then a MANUAL_UNLOCK) is at most 26 h old, and who ran
    it is recorded (``opscheck.ops_prevention_records``, activity ``kill_switch_test``)."""
    expected = f"MANUAL_LOCK + MANUAL_UNLOCK within {KILL_SWITCH_TEST_MAX_AGE_H} h, operator recorded"
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one(_LAST_TEST)
            who = None
            if row is not None:
                try:
                    who = db.one(_TEST_RUN_BY, (row["activated_at"], row["released_at"]))
                except DbError as exc:
                    if "does not exist" not in str(exc):
                        raise
                    return not_verified(
                        "the suite's schema is missing (opscheck.ops_prevention_records): who ran the test is unknown",
                        db.log.evidence(),
                        cause=SUITE_SCHEMA,
                        expected=expected,
                    )
            ev = db.log.evidence()
    except DbError as exc:
        return db_unreadable(t, exc, "circuit_breaker_events", expected)
    if row is None:
        detail = "no kill-switch test (MANUAL_LOCK then MANUAL_UNLOCK) recorded"
        # when this run's own test (§4.4) could not complete, that is the cause (the verdict follows only items of
        # the run that did not pass)
        return failed("never", expected, detail, ev, cause=_untested(detail), blocked_by=KILL_SWITCH_TEST)
    try:
        age_h = readings.age_s(row["released_at"], datetime.now(UTC), "the last MANUAL_UNLOCK") / 3600
    except readings.BadReading as exc:
        return failed("implausible", expected, str(exc), ev, cause=_untested(str(exc)))
    observed = f"last test released {row['released_at']:%Y-%m-%d %H:%M} UTC ({age_h:.1f} h ago)"
    if age_h > KILL_SWITCH_TEST_MAX_AGE_H:
        detail = f"kill switch not tested today: {observed}"
        return failed(observed, expected, detail, ev, cause=_untested(detail))
    if who is None:
        detail = (
            f"{observed}, but nobody is recorded as having run it (opscheck.ops_prevention_records kill_switch_test)"
        )
        return failed(observed, expected, detail, ev, cause=_untested(detail))
    observed += f" by {who['performed_by']} ({who['outcome']})"
    return passed(observed, expected, observed, ev)


def _untested(detail: str) -> Cause:
    return Cause(
        "kill_switch_untested",
        "daily kill-switch test",
        detail,
        "test the kill switch today: opscheck kill-switch verify --allow-mutations --operator <you> (runbook §4.3: "
        "activates, checks, releases and records who ran it), then re-run",
    )


def logs_rotated(t: Target) -> CheckResult:
    """sop.weekly.1: no log file's first timestamped line is older than 7 days."""
    expected = f"each log file starts within {LOG_ROTATION_DAYS} days"
    try:
        files = logs.log_files(t.log_dir)
    except logs.LogError as exc:
        return logs_unreadable(t, str(exc))
    oldest: list[str] = []
    lines = []
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as fh:
            first = next((ln for raw in fh if (ln := logs.parse_line(raw.rstrip("\n"), path.name))), None)
        if first is None:
            continue
        try:
            age_d = readings.age_s(first.at, datetime.now(UTC), f"{path.name}'s first line") / 86400
        except readings.BadReading as exc:
            oldest.append(str(exc))
            continue
        lines.append(f"{path.name}: first line {first.at.isoformat()} ({age_d:.1f} days)")
        if age_d > LOG_ROTATION_DAYS:
            oldest.append(f"{path.name} starts {age_d:.0f} days ago")
    if not lines and not oldest and (blind := untimestamped(t)) is not None:
        return blind
    ev = Evidence("log files", "\n".join(lines) or "(no timestamped lines)")
    if oldest:
        detail = f"logs not rotated: {'; '.join(oldest)}"
        return failed(
            "; ".join(oldest),
            expected,
            detail,
            ev,
            cause=Cause(
                "logs_not_rotated",
                f"the bot's logs in {t.log_dir}",
                detail,
                f"rotate the bot's logs weekly (logrotate with weekly and copytruncate for {t.log_dir}/*.log; SOP "
                "prevention, weekly)",
            ),
        )
    return passed(f"{len(files)} log file(s)", expected, f"{len(files)} log file(s), all rotated within a week", ev)


def keys_rotated_monthly(t: Target) -> CheckResult:
    """sop.monthly.1: the exchange key and secret were rotated within the last 31 days."""
    expected = f"{', '.join(ROTATED_KEYS)} rotated within {KEY_ROTATION_DAYS} days"
    try:
        with connect(t.db, t.redactor) as db:
            rows = {
                name: db.one("SELECT max(rotated_at) AS at FROM secret_rotations WHERE secret_name = %s", (name,))
                for name in ROTATED_KEYS
            }
            ev = db.log.evidence()
    except DbError as exc:
        return db_unreadable(t, exc, "opscheck.secret_rotations", expected)
    ages, stale = [], []
    for name, row in rows.items():
        at = row["at"] if row else None
        if at is None:
            stale.append(f"{name} never rotated")
            continue
        try:
            days = readings.age_s(at, datetime.now(UTC), f"{name} rotated_at") / 86400
        except readings.BadReading as exc:
            stale.append(str(exc))
            continue
        ages.append(f"{name} {days:.0f} days")
        if days > KEY_ROTATION_DAYS:
            stale.append(f"{name} rotated {days:.0f} days ago")
    if stale:
        detail = f"monthly key rotation overdue: {'; '.join(stale)}"
        return failed(
            "; ".join(stale),
            expected,
            detail,
            ev,
            cause=Cause(
                "key_rotation",
                "VALR API key",
                detail,
                "rotate the VALR API key at VALR, put the new key and secret in the env file, and record it: opscheck "
                "secrets rotated VALR_API_KEY --by <you> (and VALR_API_SECRET)",
            ),
        )
    return passed(", ".join(ages), expected, f"rotated: {', '.join(ages)}", ev)
