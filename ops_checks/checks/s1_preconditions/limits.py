"""Runbook §1.5.2–1.5.4: the ZAR limits from the environment parse as positive decimals within their ceilings."""

from __future__ import annotations

from decimal import Decimal

from ops_checks.core import readings
from ops_checks.core.result import CheckResult, failed, passed
from ops_checks.target.config import Target


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


def zar_limit(t: Target, name: str, ceiling: Decimal | None) -> CheckResult:
    raw = t.value(name)
    expected = f"0 < {name} <= R{ceiling}" if ceiling is not None else f"{name} > 0"
    if not raw:
        return failed("not set", expected, f"{name} is not set")
    try:
        value = parse_zar(raw)
    except ValueError as exc:
        return failed(raw, expected, f"{name} {exc}")
    if value <= 0:
        return failed(f"R{value}", expected, f"{name} is R{value}: must be positive")
    if ceiling is not None and value > ceiling:
        return failed(f"R{value}", expected, f"{name} R{value} exceeds the ceiling R{ceiling}")
    return passed(f"R{value}", expected, f"{name} = R{value}")


def zar_floor(t: Target) -> CheckResult:
    """1.5.2: ZAR_FLOOR is set, positive, and equals the operator's expected floor (EXPECTED_ZAR_FLOOR) if given."""
    result = zar_limit(t, "ZAR_FLOOR", None)
    expected_raw = t.value("EXPECTED_ZAR_FLOOR")
    if not result.ok or not expected_raw:
        return result
    try:
        expected = parse_zar(expected_raw)
    except ValueError as exc:
        return failed(result.observed, "EXPECTED_ZAR_FLOOR", f"EXPECTED_ZAR_FLOOR {exc}")
    actual = parse_zar(t.value("ZAR_FLOOR"))
    if actual != expected:
        return failed(
            f"R{actual}", f"R{expected}", f"ZAR_FLOOR R{actual} does not match the expected floor R{expected}"
        )
    return passed(f"R{actual}", f"R{expected}", f"ZAR_FLOOR = R{actual} as expected")


def max_order(t: Target) -> CheckResult:
    """1.5.3: MAX_ORDER_ZAR is set, positive and within the operator's ceiling (runbook e.g. R5,000)."""
    return zar_limit(t, "MAX_ORDER_ZAR", t.thresholds.max_order_ceiling_zar)


def max_risk(t: Target) -> CheckResult:
    """1.5.4: MAX_RISK_ZAR is set, positive and within the operator's ceiling (runbook e.g. R5,000)."""
    return zar_limit(t, "MAX_RISK_ZAR", t.thresholds.max_risk_ceiling_zar)
