"""Runbook §2.2 (live-trading gates, for the mode the operator asks for) and §2.3's trading limits (2.3.1).

``EXPECTED_EXECUTION_MODE`` (default DRY_RUN) says which preflight this is: a DRY_RUN preflight expects
EXECUTION_MODE=DRY_RUN and no LIVE_TRADING_CONFIRMED; a LIVE one expects EXECUTION_MODE=LIVE and
LIVE_TRADING_CONFIRMED=TRUE, the runbook's exact values.
"""

from __future__ import annotations

from decimal import Decimal

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.checks import causes
from ops_checks.checks.s1_preconditions.limits import limit_problem
from ops_checks.core import readings
from ops_checks.core.result import Cause, CheckResult, failed, passed

MODES = ("DRY_RUN", "LIVE")
LIMITS = ("MAX_ORDER_ZAR", "MAX_RISK_ZAR", "ZAR_FLOOR")


def expected_mode(t: Target) -> str:
    return t.value("EXPECTED_EXECUTION_MODE", "DRY_RUN").strip().upper()


def _bad_expected(mode: str) -> CheckResult:
    return failed(mode, " or ".join(MODES), f"EXPECTED_EXECUTION_MODE must be DRY_RUN or LIVE, not {mode!r}")


def execution_mode(t: Target) -> CheckResult:
    """2.2.1: EXECUTION_MODE is exactly the mode this preflight is for."""
    mode = expected_mode(t)
    if mode not in MODES:
        return _bad_expected(mode)
    actual = t.value("EXECUTION_MODE")
    if actual != mode:
        cause = causes.flag("EXECUTION_MODE", actual, f"a {mode} preflight needs {mode}", mode)
        return failed(actual or "not set", mode, cause.detail, cause=cause)
    return passed(actual, mode, f"EXECUTION_MODE={actual} ({mode} preflight)")


def live_trading_confirmed(t: Target) -> CheckResult:
    """2.2.2: LIVE needs LIVE_TRADING_CONFIRMED=TRUE exactly; DRY_RUN needs it unset (or FALSE)."""
    mode = expected_mode(t)
    if mode not in MODES:
        return _bad_expected(mode)
    actual = t.value("LIVE_TRADING_CONFIRMED")
    if mode == "LIVE":
        if actual != "TRUE":
            cause = causes.flag("LIVE_TRADING_CONFIRMED", actual, "LIVE needs TRUE", "TRUE")
            return failed(actual or "not set", "TRUE", cause.detail, cause=cause)
        return passed(actual, "TRUE", "LIVE_TRADING_CONFIRMED=TRUE (LIVE preflight)")
    if actual and actual.upper() != "FALSE":
        cause = causes.malformed(
            "LIVE_TRADING_CONFIRMED",
            f"LIVE_TRADING_CONFIRMED is {actual!r} in a DRY_RUN preflight: it must be unset",
            "FALSE (or remove the line)",
        )
        return failed(actual, "unset", cause.detail, cause=cause)
    return passed(actual or "unset", "unset", "LIVE_TRADING_CONFIRMED not set (DRY_RUN preflight)")


def _true_flag(t: Target, name: str, why: str) -> CheckResult:
    actual = t.value(name)
    if actual.lower() != "true":
        cause = causes.flag(name, actual, f"expected true ({why})", "true")
        return failed(actual or "not set", "true", cause.detail, cause=cause)
    return passed(actual, "true", f"{name}={actual}")


def kill_switch_enabled(t: Target) -> CheckResult:
    """2.2.3: KILL_SWITCH_ENABLED=true."""
    return _true_flag(t, "KILL_SWITCH_ENABLED", "the kill switch must be armed")


def budgetguard_strict(t: Target) -> CheckResult:
    """2.2.4 (warning): BUDGETGUARD_STRICT_MODE=true, as the runbook recommends."""
    return _true_flag(t, "BUDGETGUARD_STRICT_MODE", "recommended")


def limit_causes(t: Target) -> tuple[dict[str, Decimal], list[Cause]]:
    """Each of MAX_ORDER_ZAR, MAX_RISK_ZAR, ZAR_FLOOR as a positive Decimal, and the problems found (unset is not
    malformed): each a setting cause, the same one item 1.5.2–1.5.4 names for that limit."""
    values: dict[str, Decimal] = {}
    problems: list[Cause] = []
    for name in LIMITS:
        value, cause = limit_problem(name, t.value(name))
        if cause is not None:
            problems.append(cause)
        elif value is not None:
            values[name] = value
    return values, problems


def parse_limits(t: Target) -> tuple[dict[str, Decimal], list[str]]:
    """``limit_causes`` with each problem as its one-line sentence (it starts with the variable's name)."""
    values, problems = limit_causes(t)
    return values, [c.detail for c in problems]


def limits_consistent(t: Target) -> CheckResult:
    """2.3.1: the limits parse as positive decimals, MAX_ORDER_ZAR <= MAX_RISK_ZAR, and ZAR_FLOOR is below the
    starting equity recorded in system_settings (a floor at or above it halts trading at once, or never)."""
    expected = "positive; MAX_ORDER_ZAR <= MAX_RISK_ZAR; ZAR_FLOOR < starting equity"
    values, problems = limit_causes(t)
    if problems:
        return failed("unparsable", expected, "; ".join(c.detail for c in problems), cause=problems[0])
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one("SELECT daily_starting_equity_zar FROM system_settings WHERE id = %s", (1,))
            ev = db.log.evidence()
    except DbError as exc:
        return causes.db_failed(t, "starting equity unreadable", expected, exc, "system_settings")
    raw = row["daily_starting_equity_zar"] if row else None
    try:
        equity = None if raw is None else readings.amount(raw, "daily_starting_equity_zar")
    except readings.BadReading as exc:
        return failed(f"starting equity {raw}", expected, str(exc), ev)
    observed = ", ".join(f"{k}=R{v}" for k, v in values.items()) + f", starting equity R{equity}"
    found: list[Cause] = []
    if values["MAX_ORDER_ZAR"] > values["MAX_RISK_ZAR"]:
        found.append(
            causes.malformed(
                "MAX_ORDER_ZAR",
                f"MAX_ORDER_ZAR R{values['MAX_ORDER_ZAR']} exceeds MAX_RISK_ZAR R{values['MAX_RISK_ZAR']}",
                f"{values['MAX_RISK_ZAR']} (at most MAX_RISK_ZAR)",
            )
        )
    if equity is None:
        found.append(causes.STARTING_EQUITY)
    elif values["ZAR_FLOOR"] >= equity:
        found.append(
            causes.malformed(
                "ZAR_FLOOR",
                f"ZAR_FLOOR R{values['ZAR_FLOOR']} is not below the starting equity R{equity}",
                f"<a floor below R{equity}>",
            )
        )
    if found:
        return failed(observed, expected, "; ".join(c.detail for c in found), ev, cause=found[0])
    return passed(observed, expected, observed, ev)
