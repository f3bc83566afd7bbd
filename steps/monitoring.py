"""Steps for runbook §1.4 (monitoring and alerting)."""

from __future__ import annotations

from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.checks.s1_preconditions import logs, monitoring
from ops_checks.core.result import CheckResult


@when("a test message is posted to the Discord webhook", target_fixture="result")
def discord(target: Target, run_id: str) -> CheckResult:
    return monitoring.discord_test_message(target, run_id)


@when("the metrics endpoint is scraped", target_fixture="result")
def metrics(target: Target) -> CheckResult:
    return monitoring.metrics_respond(target)


@when("Grafana's health and dashboards are queried", target_fixture="result")
def grafana(target: Target) -> CheckResult:
    return monitoring.grafana_dashboards(target)


@when("the log directory is inspected", target_fixture="result")
def log_files(target: Target) -> CheckResult:
    return logs.logs_being_written(target)
