"""Steps for runbook §1.1 (infrastructure)."""

from __future__ import annotations

from pytest_bdd import parsers, when

from ops_checks.access.config import Target
from ops_checks.checks.s1_preconditions import infra
from ops_checks.core.result import CheckResult


@when('the application role runs "SELECT 1" against the bot\'s database', target_fixture="result")
def select_one(target: Target) -> CheckResult:
    return infra.database_connectivity(target)


@when("the system_settings row id 1 is read", target_fixture="result")
def settings_row(target: Target) -> CheckResult:
    return infra.settings_row_valid(target)


@when(parsers.parse('the rows of "{table}" are counted'), target_fixture="result")
def count_rows(target: Target, table: str) -> CheckResult:
    return infra.table_queryable(target, table)


@when("the running services are listed", target_fixture="result")
def list_services(target: Target) -> CheckResult:
    return infra.services_healthy(target)


@when("the bot's health endpoint is called", target_fixture="result")
def health(target: Target) -> CheckResult:
    return infra.api_health(target)
