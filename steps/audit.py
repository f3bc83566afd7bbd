"""Steps for runbook §7 (audit extraction, integrity, retention)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_bdd import given, when

from ops_checks.access import suite_tables
from ops_checks.access.config import Target
from ops_checks.checks.s7_audit import audit_integrity, audit_queries, audit_retention
from ops_checks.core.result import CheckResult
from ops_checks.procedures import audit_files
from ops_checks.pytest_plugin.steps.common import require


@pytest.fixture
def audit_workdir() -> Iterator[Path]:
    """Exports and reports go here, outside the report directory, and are removed when the item ends."""
    with tempfile.TemporaryDirectory(prefix="opscheck-audit-") as d:
        yield Path(d)


@when("the audit tables of the last day are exported into a temporary directory", target_fixture="result")
def export_tables(target: Target, audit_workdir: Path) -> CheckResult:
    return audit_files.export_tables(target, audit_workdir)


@given("the suite's schema is installed")
def suite_schema_installed(target: Target) -> None:
    """Items resting on the suite's own tables are not verified (skipped) when ``opscheck init`` never ran; the
    failure is reported once, by 7.6.1."""
    require(target, suite_tables.problem(target, "ops_schema_version"))


@given("an audit export of the last day in a temporary directory", target_fixture="audit_export_dir")
def audit_export_dir(target: Target, audit_workdir: Path) -> Path:
    directory, problem = audit_files.prepare_export(target, audit_workdir)
    require(target, problem)
    assert directory is not None
    return directory


@when("the export is verified against its checksums, its manifest and the database", target_fixture="result")
def verify_export(target: Target, audit_export_dir: Path) -> CheckResult:
    return audit_files.verify_export(target, audit_export_dir)


@when("the policy decision summary is queried", target_fixture="result")
def decision_summary(target: Target) -> CheckResult:
    return audit_queries.decision_summary(target)


@when("the kill switch activations are queried", target_fixture="result")
def kill_switch_activations(target: Target) -> CheckResult:
    return audit_queries.kill_switch_activations(target)


@when("the executed trades are queried with their policy correlation", target_fixture="result")
def trade_execution_audit(target: Target) -> CheckResult:
    return audit_queries.trade_execution_audit(target)


@when("AI confidence is compared with the policy decisions", target_fixture="result")
def confidence_vs_decision(target: Target) -> CheckResult:
    return audit_queries.confidence_vs_decision(target)


@when("the compliance report for the current month is generated into a temporary directory", target_fixture="result")
def compliance_report(target: Target, audit_workdir: Path) -> CheckResult:
    return audit_files.compliance_report(target, audit_workdir)


@when("the policy decisions of the last 30 days are counted per day", target_fixture="result")
def missing_days(target: Target) -> CheckResult:
    return audit_integrity.missing_days(target)


@when("the policy decisions of the last 30 days are scanned for gaps", target_fixture="result")
def decision_gaps(target: Target) -> CheckResult:
    return audit_integrity.decision_gaps(target)


@when("the trades of the last 30 days are matched to their policy decisions", target_fixture="result")
def orphan_trades(target: Target) -> CheckResult:
    return audit_integrity.orphan_trades(target)


@when("the oldest audit rows are compared with the recorded inception and archival records", target_fixture="result")
def rows_retained(target: Target) -> CheckResult:
    return audit_retention.rows_retained(target)


@when("the bot's privileges on the audit tables are read", target_fixture="result")
def bot_cannot_delete(target: Target) -> CheckResult:
    return audit_retention.bot_cannot_delete(target)
