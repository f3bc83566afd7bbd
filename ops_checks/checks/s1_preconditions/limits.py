"""Runbook §1.5.2–1.5.4: the ZAR limits from the environment parse as positive decimals within their ceilings."""

from __future__ import annotations

from decimal import Decimal

from ops_checks.access.config import Target
from ops_checks.checks import causes
from ops_checks.core import readings
from ops_checks.core.result import Cause, CheckResult, failed, passed


def parse_zar(raw: str) -> Decimal:
    """``5000``, ``5000.00``, ``R5,000`` or ``5 000`` → Decimal; raises ValueError otherwise (``NaN``, ``٣``,
    ``0x10``, ``1_000``, ``1e-999999``: only ASCII decimal numbers, ``readings.decimal_text``)."""
    cleaned = raw.strip().removeprefix("R").replace(",", "").replace(" ", "")
    value = readings.decimal_text(cleaned)
    if value is None:
        raise ValueError(f"not a number: {readings.shown(raw)}")
    if abs(value) > readings.CEILING:
        raise ValueError(f"not a plausible amount: {readings.shown(raw)}")
    return value


#: an example value for each limit's remedy (the runbook's own figures)
EXAMPLES = {"ZAR_FLOOR": "<your floor in ZAR, e.g. 1000>", "MAX_ORDER_ZAR": "5000", "MAX_RISK_ZAR": "5000"}


def limit_problem(name: str, raw: str, ceiling: Decimal | None = None) -> tuple[Decimal | None, Cause | None]:
    """``name``'s value as a Decimal, or the problem with it as a setting cause: unset (missing or empty) is not the
    same as malformed (set, but not a plain decimal amount), nor as out of range. The same cause for 1.5.x and
    2.3.1, so one bad limit is one cause."""
    example = EXAMPLES.get(name, "<amount in ZAR>")
    if not raw.strip():
        return None, causes.unset(name, example)
    try:
        value = parse_zar(raw)
    except ValueError:
        return None, causes.malformed(name, f"{name} is {readings.shown(raw)}: not a decimal amount in ZAR", example)
    if value <= 0:
        return value, causes.malformed(name, f"{name} is R{value}: it must be positive", example)
    if ceiling is not None and value > ceiling:
        return value, causes.malformed(name, f"{name} R{value} exceeds the ceiling R{ceiling}", f"{ceiling}")
    return value, None


def zar_limit(t: Target, name: str, ceiling: Decimal | None) -> CheckResult:
    raw = t.value(name)
    expected = f"0 < {name} <= R{ceiling}" if ceiling is not None else f"{name} > 0"
    value, cause = limit_problem(name, raw, ceiling)
    if cause is not None:
        observed = "not set" if not raw.strip() else (f"R{value}" if value is not None else readings.shown(raw))
        return failed(observed, expected, cause.detail, cause=cause)
    return passed(f"R{value}", expected, f"{name} = R{value}")


def zar_floor(t: Target) -> CheckResult:
    """1.5.2: ZAR_FLOOR is set, positive, and equals the operator's expected floor (EXPECTED_ZAR_FLOOR) if given."""
    result = zar_limit(t, "ZAR_FLOOR", None)
    expected_raw = t.value("EXPECTED_ZAR_FLOOR")
    if not result.ok or not expected_raw:
        return result
    try:
        expected = parse_zar(expected_raw)
    except ValueError:
        cause = causes.malformed(
            "EXPECTED_ZAR_FLOOR",
            f"EXPECTED_ZAR_FLOOR is {readings.shown(expected_raw)}: not a decimal amount in ZAR",
            "<the floor you expect, in ZAR>",
        )
        return failed(result.observed, "EXPECTED_ZAR_FLOOR", cause.detail, cause=cause)
    actual = parse_zar(t.value("ZAR_FLOOR"))
    if actual != expected:
        cause = causes.malformed(
            "ZAR_FLOOR", f"ZAR_FLOOR R{actual} does not match the expected floor R{expected}", f"{expected}"
        )
        return failed(f"R{actual}", f"R{expected}", cause.detail, cause=cause)
    return passed(f"R{actual}", f"R{expected}", f"ZAR_FLOOR = R{actual} as expected")


def max_order(t: Target) -> CheckResult:
    """1.5.3: MAX_ORDER_ZAR is set, positive and within the operator's ceiling (runbook e.g. R5,000)."""
    return zar_limit(t, "MAX_ORDER_ZAR", t.thresholds.max_order_ceiling_zar)


def max_risk(t: Target) -> CheckResult:
    """1.5.4: MAX_RISK_ZAR is set, positive and within the operator's ceiling (runbook e.g. R5,000)."""
    return zar_limit(t, "MAX_RISK_ZAR", t.thresholds.max_risk_ceiling_zar)
