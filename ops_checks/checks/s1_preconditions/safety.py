"""Runbook §1.3.2: the circuit breaker is configured with the runbook's limits."""

from __future__ import annotations

from decimal import Decimal

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.checks import causes
from ops_checks.core.result import CheckResult, failed, passed


def circuit_breaker_configured(t: Target) -> CheckResult:
    """1.3.2: ``daily_loss_limit_pct`` = 0.03 and ``max_consecutive_losses`` = 3 (configurable expectations)."""
    exp_pct, exp_losses = t.thresholds.expected_daily_loss_limit_pct, t.thresholds.expected_max_consecutive_losses
    expected = f"{exp_pct}, {exp_losses}"
    try:
        with connect(t.db, t.redactor) as db:
            row = db.one("SELECT daily_loss_limit_pct, max_consecutive_losses FROM system_settings WHERE id = %s", (1,))
            ev = db.log.evidence()
    except DbError as exc:
        return causes.db_failed(t, "query failed", expected, exc, "system_settings")
    if row is None:
        return failed("no row", expected, "system_settings has no row id = 1", ev)
    pct, losses = row["daily_loss_limit_pct"], row["max_consecutive_losses"]
    observed = f"{pct}, {losses}"
    if pct is None or Decimal(pct) != exp_pct or losses != exp_losses:
        return failed(observed, expected, f"circuit breaker limits are {observed}, runbook requires {expected}", ev)
    return passed(observed, expected, f"daily loss limit {pct}, max consecutive losses {losses}", ev)
