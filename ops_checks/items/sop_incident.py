"""Incident Response SOP: sop.1–sop.8 and the prevention checklist (sop.daily/weekly/monthly.N).

Severities: sop.2.1 (3–10 disconnects/h) and sop.6.1 (funding spike) are the SOP's own warnings; the daily
error-log review and the weekly/monthly hygiene boxes (records of reviews, rotations and drills) warn; everything
the SOP acts on at once blocks, and so does sop.weekly.4: a backup that does not restore is no backup. The monthly
security audit warns because its hard findings (Withdraw permission 2.1.1, audit DELETE 7.6.2) already block in
every preflight.
Drill items (sop.2.4, sop.4.2, sop.7.1, sop.8.3) run on a disposable sandbox; on live they are read-only checks.
"""

from __future__ import annotations

from ops_checks.item import SOP, WARNING, Item

S1 = "sop.1 Authentication/Authorization Failures"
S2 = "sop.2 WebSocket Disconnections"
S3 = "sop.3 Key Compromise"
S4 = "sop.4 Daily Loss Breach"
S5 = "sop.5 High Latency"
S6 = "sop.6 Funding Rate Spike"
S7 = "sop.7 Kill Switch Activation"
S8 = "sop.8 Staleness Events"
DAILY = "sop.daily Prevention Checklist: Daily"
WEEKLY = "sop.weekly Prevention Checklist: Weekly"
MONTHLY = "sop.monthly Prevention Checklist: Monthly"

ITEMS: tuple[Item, ...] = (
    Item("sop.1.1", "CDP key file mode 400/600, owned by the running user", S1, runbook=SOP),
    Item("sop.1.2", "CDP JWT verifies and is inside its validity window", S1, runbook=SOP),
    Item("sop.1.3", "Clock drift well under the 30 s JWT limit", S1, runbook=SOP),
    Item("sop.1.4", "VALR auth: no 401/403 streak (SOP backoff, alert after 3)", S1, runbook=SOP),
    Item("sop.2.1", "Disconnects not in the warning band (> 3/h)", S2, WARNING, runbook=SOP),
    Item("sop.2.2", "Disconnects at most 10/h", S2, runbook=SOP),
    Item("sop.2.3", "Websocket downtime at most 5 min", S2, runbook=SOP),
    Item("sop.2.4", "Feed drop: entries blocked, exits allowed, resume after 2 clean min", S2, runbook=SOP),
    Item("sop.3.1", "Standby key configured", S3, runbook=SOP),
    Item("sop.4.1", "Loss limits hold, or the breach is fully handled", S4, runbook=SOP),
    Item("sop.4.2", "Loss-breach drill: circuit breaker, reduce-only, no orders, alert", S4, runbook=SOP),
    Item("sop.5.1", "Exchange latency p95 at most 500 ms", S5, runbook=SOP),
    Item("sop.6.1", "Funding rate within 0.1 % per 8 h", S6, WARNING, runbook=SOP),
    Item("sop.7.1", "Kill switch: zero open orders after cancel-all", S7, runbook=SOP),
    Item("sop.8.1", "Data older than 5 s blocks entries", S8, runbook=SOP),
    Item("sop.8.2", "Data older than 30 s activates the kill switch", S8, runbook=SOP),
    Item("sop.8.3", "Stalled-feed drill", S8, runbook=SOP),
    Item("sop.daily.1", "Error logs reviewed: no ERROR lines", DAILY, WARNING, runbook=SOP),
    Item("sop.daily.2", "Latency metrics available", DAILY, runbook=SOP),
    Item("sop.daily.3", "Resting orders within MAX_RISK_ZAR", DAILY, runbook=SOP),
    Item("sop.daily.4", "Kill switch tested within 26 h", DAILY, runbook=SOP),
    Item("sop.weekly.1", "Logs rotated within a week", WEEKLY, WARNING, runbook=SOP),
    Item("sop.weekly.2", "Runbooks updated or reviewed within a week", WEEKLY, WARNING, runbook=SOP),
    Item("sop.weekly.3", "Incidents past 48 h have a root cause and a review", WEEKLY, WARNING, runbook=SOP),
    Item("sop.weekly.4", "Backup restore drill: row counts and checksums match", WEEKLY, runbook=SOP),
    Item("sop.monthly.1", "Exchange key rotated within 31 days", MONTHLY, WARNING, runbook=SOP),
    Item("sop.monthly.2", "Security audit: least privilege (DB role, audit tables, VALR key)", MONTHLY, WARNING,
         runbook=SOP),
    Item("sop.monthly.3", "Disaster recovery drill passed within 31 days", MONTHLY, WARNING, runbook=SOP),
    Item("sop.monthly.4", "Escalation contact list well formed, reviewed within 31 days", MONTHLY, WARNING,
         runbook=SOP),
)
