"""Incident Response SOP: sop.1–sop.8 and the prevention checklist (sop.daily/weekly/monthly.N).

Severities: sop.2.1 (3–10 disconnects/h) and sop.6.1 (funding spike) are the SOP's own warnings; the daily
error-log review and the weekly/monthly hygiene boxes (records of reviews, rotations and drills) warn; everything
the SOP acts on at once blocks, and so does sop.weekly.4: a backup that does not restore is no backup. The monthly
security audit warns because its hard findings (Withdraw permission 2.1.1, audit DELETE 7.6.2) already block in
every preflight.
Drill items (sop.2.4, sop.4.2, sop.7.1, sop.8.3) run on a disposable sandbox; on live they are read-only checks.
"""

from __future__ import annotations

from functools import partial

from ops_checks.catalogue.model import (
    CONFIGURATION,
    CONNECTIVITY,
    DATABASE,
    KILL_SWITCH,
    MONTHLY,
    SAFETY_GATE,
    SOP,
    WARNING,
    WEEKLY,
    Drill,
    Item,
)

#: the drill items' drill: the SOP drills on a disposable sandbox, read with the item's scope first (a target that
#: declares no such source: not applicable), then the drill's result, or the item's check on live
SOP_DRILLS = Drill("sop_drills", read="ops_checks.drills.sop_drills:outcome")

S1 = "sop.1 Authentication/Authorization Failures"
S2 = "sop.2 WebSocket Disconnections"
S3 = "sop.3 Key Compromise"
S4 = "sop.4 Daily Loss Breach"
S5 = "sop.5 High Latency"
S6 = "sop.6 Funding Rate Spike"
S7 = "sop.7 Kill Switch Activation"
S8 = "sop.8 Staleness Events"
DAILY = "sop.daily Prevention Checklist: Daily"
WEEKLY_SECTION = "sop.weekly Prevention Checklist: Weekly"
MONTHLY_SECTION = "sop.monthly Prevention Checklist: Monthly"

_s1 = partial(Item, section=S1, runbook=SOP, category=CONNECTIVITY)
_s2 = partial(Item, section=S2, runbook=SOP, category=CONNECTIVITY)
_s3 = partial(Item, section=S3, runbook=SOP, category=CONFIGURATION)
_s4 = partial(Item, section=S4, runbook=SOP, category=SAFETY_GATE)
_s5 = partial(Item, section=S5, runbook=SOP, category=CONNECTIVITY)
_s6 = partial(Item, section=S6, runbook=SOP, category=CONFIGURATION)
_s7 = partial(Item, section=S7, runbook=SOP, category=SAFETY_GATE)
_s8 = partial(Item, section=S8, runbook=SOP, category=SAFETY_GATE)
_daily = partial(Item, section=DAILY, runbook=SOP, category=CONFIGURATION)
_weekly = partial(Item, section=WEEKLY_SECTION, runbook=SOP, category=CONFIGURATION, cadence=WEEKLY)
_monthly = partial(Item, section=MONTHLY_SECTION, runbook=SOP, category=CONFIGURATION, cadence=MONTHLY)

# The drill items (sop.2.4, sop.4.2, sop.7.1, sop.8.3) are drills, not plain checks: on the sandbox the When step
# reads the item from the SOP drills on a disposable sandbox (sop.drills.run, through sop.drills.outcome); on live
# it calls the read-only check named here. m: the session's one drift measurement (drift.measure).
ITEMS: tuple[Item, ...] = (
    _s1(
        "sop.1.1",
        "CDP key file mode 400/600, owned by the running user",
        check="ops_checks.checks.sop.auth:key_file_secure",
        when="the Coinbase CDP private key file is inspected",
    ),
    _s1(
        "sop.1.2",
        "CDP JWT verifies and is inside its validity window",
        check="ops_checks.checks.sop.auth:jwt_valid",
        check_needs=("m=drift_measurement",),
        when="a CDP JWT is built the way Coinbase's SDK builds it and decoded",
    ),
    _s1(
        "sop.1.3",
        "Clock drift well under the 30 s JWT limit",
        check="ops_checks.checks.sop.auth:drift_well_under_jwt_limit",
        check_needs=("m=drift_measurement",),
        when="the exchange clock offset is measured for JWT validity",
    ),
    _s1(
        "sop.1.4",
        "VALR auth: no 401/403 streak (SOP backoff, alert after 3)",
        check="ops_checks.checks.sop.auth:valr_auth_no_streak",
        when="a signed VALR request is retried with the SOP backoff policy",
    ),
    _s2(
        "sop.2.1",
        "Disconnects not in the warning band (> 3/h)",
        severity=WARNING,
        check="ops_checks.checks.sop.feed:disconnects_not_in_warning_band",
        when="the bot's websocket disconnects over the last hour are read",
    ),
    _s2(
        "sop.2.2",
        "Disconnects at most 10/h",
        check="ops_checks.checks.sop.feed:disconnects_below_critical",
        when="the bot's websocket disconnects are compared with the critical threshold",
    ),
    _s2(
        "sop.2.3",
        "Websocket downtime at most 5 min",
        check="ops_checks.checks.sop.feed:downtime_within_limit",
        when="the bot's current websocket downtime is read",
    ),
    _s2(
        "sop.2.4",
        "Feed drop: entries blocked, exits allowed, resume after 2 clean min",
        check="ops_checks.checks.sop.feed:feed_down_blocks_entries",
        when="the market-data feed drops and comes back",
        drill=SOP_DRILLS,
    ),
    _s3(
        "sop.3.1",
        "Standby key configured",
        check="ops_checks.checks.sop.auth:standby_keys",
        when="the standby keys are inspected",
    ),
    _s4(
        "sop.4.1",
        "Loss limits hold, or the breach is fully handled",
        check="ops_checks.checks.sop.loss:loss_breach_handled",
        preconditions=(DATABASE,),
        when="the daily P&L and consecutive losses are compared with system_settings",
    ),
    _s4(
        "sop.4.2",
        "Loss-breach drill: circuit breaker, reduce-only, no orders, alert",
        check="ops_checks.checks.sop.loss:breach_settings_sane",
        preconditions=(DATABASE,),
        when="the daily P&L is driven past the loss limit",
        drill=SOP_DRILLS,
    ),
    _s5(
        "sop.5.1",
        "Exchange latency p95 at most 500 ms",
        check="ops_checks.checks.sop.latency:p95_within_limit",
        when="public and signed exchange requests are timed and the bot's latency metric is read",
    ),
    _s6(
        "sop.6.1",
        "Funding rate within 0.1 % per 8 h",
        severity=WARNING,
        check="ops_checks.checks.sop.funding:funding_within_limit",
        when="the latest funding rate of each perpetual pair is read",
    ),
    _s7(
        "sop.7.1",
        "Kill switch: zero open orders after cancel-all",
        check="ops_checks.checks.sop.orders:kill_switch_leaves_no_orders",
        preconditions=(DATABASE,),
        when="the kill switch is activated with orders resting on the exchange",
        drill=SOP_DRILLS,
        topics=(KILL_SWITCH,),
    ),
    _s8(
        "sop.8.1",
        "Data older than 5 s blocks entries",
        check="ops_checks.checks.sop.feed:stale_blocks_entries",
        when="the bot's market-data age and reduce-only state are read",
    ),
    _s8(
        "sop.8.2",
        "Data older than 30 s activates the kill switch",
        check="ops_checks.checks.sop.feed:stale_activates_kill_switch",
        when="the bot's market-data age and kill-switch state are read",
    ),
    _s8(
        "sop.8.3",
        "Stalled-feed drill",
        check="ops_checks.checks.sop.feed:staleness_observable",
        when="the market-data feed stalls",
        drill=SOP_DRILLS,
    ),
    _daily(
        "sop.daily.1",
        "Error logs reviewed: no ERROR lines",
        severity=WARNING,
        check="ops_checks.checks.sop.prevention:error_logs_clean",
        when="the bot's recent log lines are searched for errors",
    ),
    _daily(
        "sop.daily.2",
        "Latency metrics available",
        check="ops_checks.checks.sop.prevention:latency_metric_exported",
        when="the bot's latency metrics are read",
    ),
    _daily(
        "sop.daily.3",
        "Resting orders within MAX_RISK_ZAR",
        check="ops_checks.checks.sop.prevention:resting_orders_within_risk",
        when="the orders resting on the exchange are valued",
    ),
    _daily(
        "sop.daily.4",
        "Kill switch tested within 26 h",
        check="ops_checks.checks.sop.prevention:kill_switch_tested_recently",
        preconditions=(DATABASE,),
        when="the last kill-switch test is looked up",
    ),
    _weekly(
        "sop.weekly.1",
        "Logs rotated within a week",
        severity=WARNING,
        check="ops_checks.checks.sop.prevention:logs_rotated",
        when="the bot's log files are dated",
    ),
    # runbook_dir: the runbooks' directory, or None
    _weekly(
        "sop.weekly.2",
        "Runbooks updated or reviewed within a week",
        severity=WARNING,
        check="ops_checks.checks.sop.reviews:runbooks_reviewed",
        check_needs=("runbook_dir",),
        when="the runbooks' revisions and their recorded reviews are read",
    ),
    _weekly(
        "sop.weekly.3",
        "Incidents past 48 h have a root cause and a review",
        severity=WARNING,
        check="ops_checks.checks.sop.reviews:incidents_reviewed",
        when="every incident past its 48-hour review meeting is looked up",
    ),
    # server, workdir: where a disposable database can be made (the sandbox's Postgres server), else None (live): the
    # recorded drill is checked instead
    _weekly(
        "sop.weekly.4",
        "Backup restore drill: row counts and checksums match",
        check="ops_checks.drills.restore_drill:check",
        check_needs=("server=restore_server", "workdir=restore_workdir"),
        preconditions=(DATABASE,),
        when="the audit tables are backed up and restored into a disposable database",
    ),
    _monthly(
        "sop.monthly.1",
        "Exchange key rotated within 31 days",
        severity=WARNING,
        check="ops_checks.checks.sop.prevention:keys_rotated_monthly",
        when="the exchange key's last rotation is read",
    ),
    _monthly(
        "sop.monthly.2",
        "Security audit: least privilege (DB role, audit tables, VALR key)",
        severity=WARNING,
        check="ops_checks.checks.sop.security_audit:audit",
        when="the bot's database role, audit-table privileges and exchange key permissions are audited",
    ),
    _monthly(
        "sop.monthly.3",
        "Disaster recovery drill passed within 31 days",
        severity=WARNING,
        check="ops_checks.drills.restore_drill:dr_drill_recorded",
        when="the last disaster recovery drill is looked up",
    ),
    _monthly(
        "sop.monthly.4",
        "Escalation contact list well formed, reviewed within 31 days",
        severity=WARNING,
        check="ops_checks.checks.sop.contacts:contacts_current",
        when="the escalation contact list is read",
    ),
)
