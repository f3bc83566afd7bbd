"""Live Trading Runbook §8 Exchange Clock Drift Verification: 8.5.1–8.5.3, 8.6.1–8.6.5, 8.7.1–8.7.4.

§8.5's three PromQL lines are 8.5.1–8.5.3 and §8.7's four bands 8.7.1–8.7.4 (DESIGN.md §4: section + row).
The bands: 8.7.1 (0–500 healthy) asks that the band be *measured*, i.e. offset ± bound lies in one band;
8.7.2 (500–800) and 8.7.3 (800–1000) fail as warnings when the drift is in them (GO, visibly); 8.7.4 (> 1000
NEUTRAL) checks the action of its row: the bot's guard reads the true drift and goes NEUTRAL above 1000 ms.
Whether the drift itself is below 1000 ms is 8.6.2's question, so a drift of 1.5 s fails that item alone.
"""

from __future__ import annotations

from functools import partial

from ops_checks.catalogue.model import CLOCK_READABLE, CLOCK_WITHIN_TOLERANCE, CONNECTIVITY, WARNING, Given, Item

S85 = "8.5 Clock Drift Monitoring Dashboard"
S86 = "8.6 Clock Drift Verification Checklist"
S87 = "8.7 Clock Drift Alert Thresholds"

# m: the session's one drift measurement (drift.measure), so every item judges the same samples
_s85 = partial(Item, section=S85, category=CONNECTIVITY)
_s86 = partial(Item, section=S86, category=CONNECTIVITY)
_s87 = partial(Item, section=S87, category=CONNECTIVITY)

ITEMS: tuple[Item, ...] = (
    _s85(
        "8.5.1",
        "Drift gauge exported and within tolerance",
        check="ops_checks.checks.s8_clock_drift.drift_metrics:drift_gauge_ok",
        preconditions=(CLOCK_WITHIN_TOLERANCE,),
        when="the bot's exchange_clock_drift_ms gauge is read",
    ),
    _s85(
        "8.5.2",
        "No drift-exceeded events in the window",
        check="ops_checks.checks.s8_clock_drift.drift_metrics:drift_exceeded_not_increased",
        preconditions=(CLOCK_WITHIN_TOLERANCE,),
        when="the increase of exchange_clock_drift_exceeded_total over the window is read",
    ),
    _s85(
        "8.5.3",
        "No time-sync failures in the window",
        check="ops_checks.checks.s8_clock_drift.drift_metrics:sync_failures_not_increased",
        preconditions=(CLOCK_READABLE,),
        when="the increase of exchange_time_sync_failures_total over the window is read",
    ),
    _s86(
        "8.6.1",
        "Exchange time reachable",
        check="ops_checks.checks.s8_clock_drift.drift:exchange_time_reachable",
        when="VALR's public time is requested",
    ),
    _s86(
        "8.6.2",
        "Drift < 1000 ms (measured with its bound)",
        check="ops_checks.checks.s8_clock_drift.drift:offset_within_tolerance",
        check_needs=("m=drift_measurement",),
        preconditions=(CLOCK_READABLE,),
        when="the clock offset to VALR is judged against the tolerance",
    ),
    _s86(
        "8.6.3",
        "Host NTP synchronised",
        check="ops_checks.checks.s8_clock_drift.ntp:ntp_synchronized",
        preconditions=(
            Given("ops_checks.checks.s8_clock_drift.ntp:tool_missing", text="an NTP status tool answers on this host"),
        ),
        when="the host's NTP status is read",
    ),
    _s86(
        "8.6.4",
        "Bot time-sync logs OK",
        check="ops_checks.checks.s8_clock_drift.drift_logs:time_sync_logs_ok",
        preconditions=(CLOCK_WITHIN_TOLERANCE,),
        when="the bot's time-sync log lines are read",
    ),
    _s86(
        "8.6.5",
        "Signed API request accepted",
        check="ops_checks.checks.s8_clock_drift.signed_request:signed_request_accepted",
        when="a signed request reads the account balances with one timestamp",
    ),
    _s87(
        "8.7.1",
        "Drift band decided by measurement",
        severity=WARNING,
        check="ops_checks.checks.s8_clock_drift.drift:band_unambiguous",
        check_needs=("m=drift_measurement",),
        preconditions=(CLOCK_READABLE,),
        when="the measured clock offset is placed in a band",
    ),
    _s87(
        "8.7.2",
        "Drift not in the warning band (500-800 ms)",
        severity=WARNING,
        check="ops_checks.checks.s8_clock_drift.drift:outside_band",
        check_args=("WARNING",),
        check_needs=("m=drift_measurement",),
        preconditions=(CLOCK_READABLE,),
        when="the measured clock offset is compared with the warning band",
    ),
    _s87(
        "8.7.3",
        "Drift not in the critical band (800-1000 ms)",
        severity=WARNING,
        check="ops_checks.checks.s8_clock_drift.drift:outside_band",
        check_args=("CRITICAL",),
        check_needs=("m=drift_measurement",),
        preconditions=(CLOCK_READABLE,),
        when="the measured clock offset is compared with the critical band",
    ),
    _s87(
        "8.7.4",
        "NEUTRAL above 1000 ms: bot guard reads the true drift",
        check="ops_checks.checks.s8_clock_drift.drift_logs:neutral_guard",
        check_needs=("m=drift_measurement",),
        preconditions=(CLOCK_READABLE,),
        when="the bot's drift guard is compared with the measured offset",
    ),
)
