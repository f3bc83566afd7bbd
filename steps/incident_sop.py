"""Steps for the Incident Response SOP (sop.1–sop.8, prevention checklist). Drills run on a disposable sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_bdd import when

from ops_checks.access.config import Target
from ops_checks.checks.s8_clock_drift import drift
from ops_checks.checks.sop import (
    auth,
    contacts,
    feed,
    funding,
    latency,
    loss,
    prevention,
    reviews,
    security_audit,
)
from ops_checks.core.result import CheckResult
from ops_checks.drills import restore_drill
from ops_checks.drills import sop_drills as drills


@pytest.fixture(scope="session")
def sop_drift(target: Target) -> drift.Measurement:
    return drift.measure(target)


@when("the Coinbase CDP private key file is inspected", target_fixture="result")
def cdp_key_file(target: Target) -> CheckResult:
    return auth.key_file_secure(target)


@when("a CDP JWT is built the way Coinbase's SDK builds it and decoded", target_fixture="result")
def cdp_jwt(target: Target, sop_drift: drift.Measurement) -> CheckResult:
    return auth.jwt_valid(target, sop_drift)


@when("the exchange clock offset is measured for JWT validity", target_fixture="result")
def jwt_drift(target: Target, sop_drift: drift.Measurement) -> CheckResult:
    return auth.drift_well_under_jwt_limit(target, sop_drift)


@when("a signed VALR request is retried with the SOP backoff policy", target_fixture="result")
def valr_auth(target: Target) -> CheckResult:
    return auth.valr_auth_no_streak(target)


@when("the bot's websocket disconnects over the last hour are read", target_fixture="result")
def ws_warning(target: Target) -> CheckResult:
    return feed.disconnects_not_in_warning_band(target)


@when("the bot's websocket disconnects are compared with the critical threshold", target_fixture="result")
def ws_critical(target: Target) -> CheckResult:
    return feed.disconnects_below_critical(target)


@when("the bot's current websocket downtime is read", target_fixture="result")
def ws_downtime(target: Target) -> CheckResult:
    return feed.downtime_within_limit(target)


@when("the market-data feed drops and comes back", target_fixture="result")
def feed_drop(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drills.outcome(target, sop_drills, "sop.2.4")


@when("the standby keys are inspected", target_fixture="result")
def standby(target: Target) -> CheckResult:
    return auth.standby_keys(target)


@when("the daily P&L and consecutive losses are compared with system_settings", target_fixture="result")
def loss_state(target: Target) -> CheckResult:
    return loss.loss_breach_handled(target)


@when("the daily P&L is driven past the loss limit", target_fixture="result")
def loss_drill(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drills.outcome(target, sop_drills, "sop.4.2")


@when("public and signed exchange requests are timed and the bot's latency metric is read", target_fixture="result")
def exchange_latency(target: Target) -> CheckResult:
    return latency.p95_within_limit(target)


@when("the latest funding rate of each perpetual pair is read", target_fixture="result")
def funding_rate(target: Target) -> CheckResult:
    return funding.funding_within_limit(target)


@when("the kill switch is activated with orders resting on the exchange", target_fixture="result")
def kill_switch_orders(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drills.outcome(target, sop_drills, "sop.7.1")


@when("the bot's market-data age and reduce-only state are read", target_fixture="result")
def stale_block(target: Target) -> CheckResult:
    return feed.stale_blocks_entries(target)


@when("the bot's market-data age and kill-switch state are read", target_fixture="result")
def stale_kill(target: Target) -> CheckResult:
    return feed.stale_activates_kill_switch(target)


@when("the market-data feed stalls", target_fixture="result")
def stall_drill(target: Target, sop_drills: drills.Drill | None) -> CheckResult:
    return drills.outcome(target, sop_drills, "sop.8.3")


@when("the bot's recent log lines are searched for errors", target_fixture="result")
def error_logs(target: Target) -> CheckResult:
    return prevention.error_logs_clean(target)


@when("the bot's latency metrics are read", target_fixture="result")
def latency_metrics(target: Target) -> CheckResult:
    return prevention.latency_metric_exported(target)


@when("the orders resting on the exchange are valued", target_fixture="result")
def position_limits(target: Target) -> CheckResult:
    return prevention.resting_orders_within_risk(target)


@when("the last kill-switch test is looked up", target_fixture="result")
def kill_switch_test(target: Target) -> CheckResult:
    return prevention.kill_switch_tested_recently(target)


@when("the bot's log files are dated", target_fixture="result")
def log_rotation(target: Target) -> CheckResult:
    return prevention.logs_rotated(target)


@when("the exchange key's last rotation is read", target_fixture="result")
def key_rotation(target: Target) -> CheckResult:
    return prevention.keys_rotated_monthly(target)


@when("the runbooks' revisions and their recorded reviews are read", target_fixture="result")
def runbook_reviews(target: Target, runbook_dir: Path | None) -> CheckResult:
    return reviews.runbooks_reviewed(target, runbook_dir)


@when("every incident past its 48-hour review meeting is looked up", target_fixture="result")
def incident_reviews(target: Target) -> CheckResult:
    return reviews.incidents_reviewed(target)


@when("the audit tables are backed up and restored into a disposable database", target_fixture="result")
def backup_restore(target: Target, restore_site: restore_drill.Site) -> CheckResult:
    return restore_drill.check(target, restore_site.server, restore_site.workdir)


@when(
    "the bot's database role, audit-table privileges and exchange key permissions are audited", target_fixture="result"
)
def security(target: Target) -> CheckResult:
    return security_audit.audit(target)


@when("the last disaster recovery drill is looked up", target_fixture="result")
def dr_drill(target: Target) -> CheckResult:
    return restore_drill.dr_drill_recorded(target)


@when("the escalation contact list is read", target_fixture="result")
def contact_list(target: Target) -> CheckResult:
    return contacts.contacts_current(target)
