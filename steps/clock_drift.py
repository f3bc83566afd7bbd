"""Steps for runbook §8 (exchange clock drift): one offset measurement per session, judged by each item."""

from __future__ import annotations

import pytest
from pytest_bdd import given, when

from ops_checks.access.clock import CRITICAL, WARNING
from ops_checks.access.config import Target
from ops_checks.checks.s8_clock_drift import drift, drift_logs, drift_metrics, ntp, signed_request
from ops_checks.checks.s8_clock_drift.drift import Measurement
from ops_checks.core.result import CheckResult
from ops_checks.pytest_plugin.steps.common import require


@pytest.fixture(scope="session")
def drift_measurement(target: Target) -> Measurement:
    """Measured once per session, so the drift item and the band items report the same samples."""
    return drift.measure(target)


@given("VALR's clock can be read")
def clock_readable(target: Target, drift_measurement: Measurement) -> None:
    require(target, drift.time_unavailable(drift_measurement))


@given("the exchange clock is within tolerance")
def clock_within_tolerance(target: Target, drift_measurement: Measurement) -> None:
    require(target, drift.beyond_tolerance(target, drift_measurement))


@given("an NTP status tool answers on this host")
def ntp_tool(target: Target) -> None:
    require(target, ntp.tool_missing(target))


@when("the bot's exchange_clock_drift_ms gauge is read", target_fixture="result")
def drift_gauge(target: Target) -> CheckResult:
    return drift_metrics.drift_gauge_ok(target)


@when("the increase of exchange_clock_drift_exceeded_total over the window is read", target_fixture="result")
def drift_exceeded(target: Target) -> CheckResult:
    return drift_metrics.drift_exceeded_not_increased(target)


@when("the increase of exchange_time_sync_failures_total over the window is read", target_fixture="result")
def sync_failures(target: Target) -> CheckResult:
    return drift_metrics.sync_failures_not_increased(target)


@when("VALR's public time is requested", target_fixture="result")
def exchange_time(target: Target) -> CheckResult:
    return drift.exchange_time_reachable(target)


@when("the clock offset to VALR is judged against the tolerance", target_fixture="result")
def offset_tolerance(target: Target, drift_measurement: Measurement) -> CheckResult:
    return drift.offset_within_tolerance(target, drift_measurement)


@when("the host's NTP status is read", target_fixture="result")
def ntp_status(target: Target) -> CheckResult:
    return ntp.ntp_synchronized(target)


@when("the bot's time-sync log lines are read", target_fixture="result")
def sync_logs(target: Target) -> CheckResult:
    return drift_logs.time_sync_logs_ok(target)


@when("a signed request reads the account balances with one timestamp", target_fixture="result")
def signed(target: Target) -> CheckResult:
    return signed_request.signed_request_accepted(target)


@when("the measured clock offset is placed in a band", target_fixture="result")
def band_decided(drift_measurement: Measurement) -> CheckResult:
    return drift.band_unambiguous(drift_measurement)


@when("the measured clock offset is compared with the warning band", target_fixture="result")
def warning_band(drift_measurement: Measurement) -> CheckResult:
    return drift.outside_band(drift_measurement, WARNING)


@when("the measured clock offset is compared with the critical band", target_fixture="result")
def critical_band(drift_measurement: Measurement) -> CheckResult:
    return drift.outside_band(drift_measurement, CRITICAL)


@when("the bot's drift guard is compared with the measured offset", target_fixture="result")
def neutral_guard(target: Target, drift_measurement: Measurement) -> CheckResult:
    return drift_logs.neutral_guard(target, drift_measurement)
