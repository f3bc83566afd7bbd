"""Runbook §1.2: exchange connectivity — VALR reachable, API key valid, balance readable and consistent."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ops_checks.access import prometheus
from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.access.valr.client import ValrClient, ValrError
from ops_checks.checks import causes
from ops_checks.core import readings
from ops_checks.core.http import Recorder
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, passed, plain

REQUIRED_PERMISSIONS = ("View access", "Trade")


def client(t: Target, rec: Recorder) -> ValrClient:
    return ValrClient(
        t.valr_base_url, t.secret("VALR_API_KEY"), t.secret("VALR_API_SECRET"), transport=t.valr_transport, recorder=rec
    )


def open_orders(t: Target, rec: Recorder) -> list[dict[str, Any]]:
    """The exchange's open orders for the target's key (signed); raises ``ValrError``."""
    return client(t, rec).open_orders()


def valr_failed(t: Target, observed: str, expected: str, exc: ValrError, *evidence: Evidence) -> CheckResult:
    """A failed VALR call as the item's result: the real failure named (DNS, refused, timeout, the key, the
    signature, VALR's own error) and its cause, shared with every other item that met it."""
    cause, reason = causes.valr_failure(t, exc)
    return failed(observed, expected, reason, *evidence, cause=cause)


def exchange_status(t: Target, status: str) -> Cause:
    """VALR says it is not ``online`` (e.g. ``read-only``): one cause, whichever item reads the status (1.2.1, and
    6.4.7 before a resume)."""
    return Cause(
        "exchange_status",
        "VALR",
        f"VALR reports status {status!r}: the exchange accepts no orders",
        f"wait until VALR reports online (GET {t.valr_base_url}/v1/public/status, https://status.valr.com), then "
        "re-run",
    )


def valr_reachable(t: Target) -> CheckResult:
    """1.2.1: public time answers JSON with ``epochTime`` and the exchange status is ``online``."""
    rec = Recorder(t.redactor)
    c = client(t, rec)
    try:
        server_time = c.public_time()
        status = c.status()
    except ValrError as exc:
        return valr_failed(t, "unreachable", "epochTime and status online", exc, Evidence("HTTP", rec.render()))
    ev = Evidence("HTTP", rec.render())
    if server_time.epoch_time is None:
        return failed("no epochTime", "epochTime", "/v1/public/time answered without epochTime", ev)
    if status != "online":
        cause = exchange_status(t, status)
        return failed(status, "online", cause.detail, ev, cause=cause)
    return passed(f"epochTime={server_time.epoch_time}, status={status}", "epochTime and status online", "", ev)


def credentials_unset(t: Target) -> CheckResult | None:
    """VALR_API_KEY or VALR_API_SECRET missing from the env file: a failed result with the setting's cause."""
    for name in ("VALR_API_KEY", "VALR_API_SECRET"):
        if not t.secret(name):
            cause = causes.unset(name, f"<your VALR {'API key' if name.endswith('KEY') else 'API secret'}>")
            return failed("not set", "VALR_API_KEY and VALR_API_SECRET", cause.detail, cause=cause)
    return None


def api_key_valid(t: Target) -> CheckResult:
    """1.2.2: a signed request authenticates, and the key can read and trade."""
    unset = credentials_unset(t)
    if unset is not None:
        return unset
    rec = Recorder(t.redactor)
    try:
        info = client(t, rec).api_key_info()
    except ValrError as exc:
        return valr_failed(t, "authentication failed", "authenticated", exc, Evidence("HTTP", rec.render()))
    ev = Evidence("HTTP", rec.render())
    missing = [p for p in REQUIRED_PERMISSIONS if p not in info.permissions]
    if missing:
        return failed(
            info.permissions,
            list(REQUIRED_PERMISSIONS),
            f"API key authenticates but lacks permission: {', '.join(missing)}",
            ev,
        )
    return passed(
        info.permissions, list(REQUIRED_PERMISSIONS), f"authenticated, permissions {plain(info.permissions)}", ev
    )


def pct_diff(a: Decimal, b: Decimal) -> Decimal:
    if b == 0:
        return Decimal("Infinity") if a != 0 else Decimal(0)
    return abs(a - b) / abs(b) * 100


def zar_total(t: Target, rec: Recorder) -> Decimal:
    balances = client(t, rec).balances()
    for b in balances:
        if b.currency == "ZAR":
            return b.total
    raise ValrError("VALR balances have no ZAR entry", http_status=200)


EQUITY_METRIC = "equity_zar_gauge"  # the real bot: "Current account balance in ZAR from VALR"


def balance_readable(t: Target) -> CheckResult:
    """1.2.3: the signed balance read works, and the balance the bot itself reports (its ``equity_zar_gauge``,
    app/observability/metrics.py) matches VALR's ZAR total. The real bot has no balance table."""
    unset = credentials_unset(t)
    if unset is not None:
        return unset
    rec = Recorder(t.redactor)
    try:
        exchange_zar = zar_total(t, rec)
    except ValrError as exc:
        return valr_failed(t, "unreadable", "ZAR balance", exc, Evidence("HTTP", rec.render()))
    ev = [Evidence("HTTP", rec.render())]
    name = EQUITY_METRIC if EQUITY_METRIC in t.profile.metric_names else ""
    if not name:
        return failed(f"exchange R{exchange_zar}", "the bot's balance", "the bot profile names no equity metric", *ev)
    try:
        metrics = prometheus.scrape(t)
    except prometheus.MetricsError as exc:
        return failed(f"exchange R{exchange_zar}", "the bot's balance", f"bot's {name} unreadable: {exc}", *ev)
    ev.append(metrics.evidence(name))
    try:
        value = metrics.number(name, "runbook §1.2.3")
    except prometheus.BadMetric as exc:
        return failed(f"exchange R{exchange_zar}", "the bot's balance", f"the bot's balance: {exc}", *ev)
    except prometheus.MetricsError as exc:
        return failed(f"exchange R{exchange_zar}", "the bot's balance", str(exc), *ev)
    bots = Decimal(str(value)).quantize(Decimal("0.01"))
    diff = pct_diff(bots, exchange_zar)
    tol = t.thresholds.balance_cache_tolerance_pct
    observed = f"exchange R{exchange_zar}, bot's {name} R{bots} ({diff:.2f}% apart)"
    if bots == 0 and exchange_zar != 0:
        return failed(
            observed,
            f"within {tol}%",
            f"the bot reports {name}=0 against VALR R{exchange_zar}: "
            "it has not read (or not published) the account balance",
            *ev,
            cause=Cause(
                "bot_state",
                f"{name} (the bot's view of the balance)",
                f"the bot publishes {name}=0 while VALR holds R{exchange_zar}: it has not read the account balance",
                "let the bot reach VALR with its VALR_API_KEY (its balance poller feeds the gauge), check its log for "
                "VALR errors, then re-run",
            ),
        )
    if diff > tol:
        return failed(observed, f"within {tol}%", f"balance mismatch: {observed}, tolerance {tol}%", *ev)
    return passed(observed, f"within {tol}%", observed, *ev)


def starting_equity_recorded(t: Target) -> CheckResult:
    """1.5.1: ``daily_starting_equity_zar`` is recorded and matches the actual ZAR balance on VALR."""
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one("SELECT daily_starting_equity_zar FROM system_settings WHERE id = %s", (1,))
            sql_ev = db.log.evidence()
    except DbError as exc:
        return failed("query failed", "starting equity", str(exc))
    raw = row["daily_starting_equity_zar"] if row else None
    if raw is None:
        why = "daily_starting_equity_zar is not recorded"
        return failed(None, "recorded", why, sql_ev, cause=causes.STARTING_EQUITY)
    try:
        equity = readings.amount(raw, "daily_starting_equity_zar")
    except readings.BadReading as exc:
        return failed(str(raw), "recorded", str(exc), sql_ev)
    unset = credentials_unset(t)
    if unset is not None:
        return unset
    rec = Recorder(t.redactor)
    try:
        actual = zar_total(t, rec)
    except ValrError as exc:
        return valr_failed(t, f"recorded R{equity}", "actual balance", exc, sql_ev)
    ev = (sql_ev, Evidence("HTTP", rec.render()))
    diff = pct_diff(equity, actual)
    tol = t.thresholds.equity_tolerance_pct
    observed = f"recorded R{equity}, VALR R{actual} ({diff:.2f}% apart)"
    if diff > tol:
        return failed(observed, f"within {tol}%", f"starting equity does not match balance: {observed}", *ev)
    return passed(observed, f"within {tol}%", observed, *ev)
