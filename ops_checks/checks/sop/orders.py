"""Incident SOP §7 on live (read-only): while the kill switch is active, the exchange holds no open orders."""

from __future__ import annotations

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.access.valr.client import ValrError
from ops_checks.checks import causes
from ops_checks.checks.s1_preconditions.exchange import open_orders
from ops_checks.core import readings
from ops_checks.core.http import Recorder
from ops_checks.core.result import CheckResult, Evidence, failed, passed


def kill_switch_leaves_no_orders(t: Target) -> CheckResult:
    expected = "kill switch active ⇒ 0 open orders on the exchange"
    rec = Recorder(t.redactor)
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one("SELECT circuit_breaker_active FROM system_settings WHERE id = %s", (1,))
            sql_ev = db.log.evidence()
        orders = open_orders(t, rec)
    except ValrError as exc:
        cause = causes.valr(t, exc)
        return failed("unreadable", expected, cause.detail, Evidence("HTTP", rec.render()), cause=cause)
    except DbError as exc:
        return failed("unreadable", expected, str(exc), Evidence("HTTP", rec.render()))
    ev = (sql_ev, Evidence("HTTP", rec.render()))
    if row is None:
        return failed("no row", expected, "system_settings row id 1 missing: the kill switch state is unknown", *ev)
    try:  # NULL is no state: never read as "inactive"
        active = readings.flag(row["circuit_breaker_active"], "system_settings circuit_breaker_active")
    except readings.BadReading as exc:
        return failed("unknown", expected, str(exc), *ev)
    if active and orders:
        return failed(
            f"active, {len(orders)} open",
            expected,
            f"kill switch active but {len(orders)} order(s) still open on VALR",
            *ev,
        )
    return passed(
        f"kill switch {'active' if active else 'inactive'}, {len(orders)} open order(s)",
        expected,
        f"kill switch {'active' if active else 'inactive'}, {len(orders)} open order(s)",
        *ev,
    )
