"""Live Trading Runbook §7 Audit Extraction Steps: items 7.2.1–7.6.2.

Ids (DESIGN.md §4): §7.3's numbered queries keep their numbers; the script of §7.2 gives two items (the export,
its verification), §7.4's script one (the monthly report), §7.5's two query blocks three items (missing days and
gaps from the first block, orphan trades from the second), §7.6's policy table two (its Retention Period and its
Deletion Procedure columns, verified across the audit tables).
"""

from __future__ import annotations

from functools import partial

from ops_checks.catalogue.model import DATA_INTEGRITY, DATABASE, SUITE_SCHEMA, WARNING, Given, Item, table

S72 = "7.2 Full Audit Export"
S73 = "7.3 Specific Audit Queries"
S74 = "7.4 Compliance Report Generation"
S75 = "7.5 Audit Data Integrity Verification"
S76 = "7.6 Audit Retention Policy"

_s72 = partial(Item, section=S72, category=DATA_INTEGRITY)
_s73 = partial(Item, section=S73, category=DATA_INTEGRITY)
_s74 = partial(Item, section=S74, category=DATA_INTEGRITY)
_s75 = partial(Item, section=S75, category=DATA_INTEGRITY)
_s76 = partial(Item, section=S76, category=DATA_INTEGRITY)
_DECISIONS = (DATABASE, table("policy_decision_audit"))
_TRADES = (DATABASE, table("trading_orders"), table("policy_decision_audit"))
#: 7.2.2's export, made for the item (the plugin's audit_export fixture: audit_files.prepare_export); when it cannot
#: be made the item is not verified, resting on 7.2.1
_EXPORT_MADE = Given(
    "ops_checks.procedures.audit_files:export_problem",
    needs=("export=audit_export",),
    text="an audit export of the last day in a temporary directory",
)

ITEMS: tuple[Item, ...] = (
    # workdir: a temporary directory, removed when the item ends
    _s72(
        "7.2.1",
        "Audit tables exported",
        check="ops_checks.procedures.audit_files:export_tables",
        check_needs=("workdir=audit_workdir",),
        mutating=True,
        preconditions=(DATABASE,),
        when="the audit tables of the last day are exported into a temporary directory",
    ),
    # directory: the export the scenario's Given made (the plugin's audit_export_dir fixture)
    _s72(
        "7.2.2",
        "Export verified against checksums and database",
        check="ops_checks.procedures.audit_files:verify_export",
        check_needs=("directory=audit_export_dir",),
        mutating=True,
        preconditions=(DATABASE, SUITE_SCHEMA, _EXPORT_MADE),
        when="the export is verified against its checksums, its manifest and the database",
    ),
    _s73(
        "7.3.1",
        "Policy decision summary",
        severity=WARNING,
        check="ops_checks.checks.s7_audit.audit_queries:decision_summary",
        preconditions=_DECISIONS,
        when="the policy decision summary is queried",
    ),
    _s73(
        "7.3.2",
        "Kill switch activations",
        severity=WARNING,
        check="ops_checks.checks.s7_audit.audit_queries:kill_switch_activations",
        preconditions=(DATABASE, table("circuit_breaker_events")),
        when="the kill switch activations are queried",
    ),
    _s73(
        "7.3.3",
        "Trade execution audit",
        check="ops_checks.checks.s7_audit.audit_queries:trade_execution_audit",
        preconditions=_TRADES,
        when="the executed trades are queried with their policy correlation",
    ),
    _s73(
        "7.3.4",
        "AI confidence vs policy decision",
        severity=WARNING,
        check="ops_checks.checks.s7_audit.audit_queries:confidence_vs_decision",
        preconditions=_DECISIONS,
        when="AI confidence is compared with the policy decisions",
    ),
    _s74(
        "7.4.1",
        "Monthly compliance report",
        severity=WARNING,
        check="ops_checks.procedures.audit_files:compliance_report",
        check_needs=("workdir=audit_workdir",),
        mutating=True,
        preconditions=(DATABASE,),
        when="the compliance report for the current month is generated into a temporary directory",
    ),
    _s75(
        "7.5.1",
        "No day without decisions",
        check="ops_checks.checks.s7_audit.audit_integrity:missing_days",
        preconditions=_DECISIONS,
        when="the policy decisions of the last 30 days are counted per day",
    ),
    _s75(
        "7.5.2",
        "No gap in decisions",
        check="ops_checks.checks.s7_audit.audit_integrity:decision_gaps",
        preconditions=_DECISIONS,
        when="the policy decisions of the last 30 days are scanned for gaps",
    ),
    _s75(
        "7.5.3",
        "Every trade has a policy decision",
        check="ops_checks.checks.s7_audit.audit_integrity:orphan_trades",
        preconditions=_TRADES,
        when="the trades of the last 30 days are matched to their policy decisions",
    ),
    _s76(
        "7.6.1",
        "Audit rows retained",
        check="ops_checks.checks.s7_audit.audit_retention:rows_retained",
        preconditions=_DECISIONS,
        when="the oldest audit rows are compared with the recorded inception and archival records",
    ),
    _s76(
        "7.6.2",
        "Bot role cannot delete audit rows",
        severity=WARNING,
        check="ops_checks.checks.s7_audit.audit_retention:bot_cannot_delete",
        preconditions=(DATABASE,),
        when="the bot's privileges on the audit tables are read",
    ),
)
