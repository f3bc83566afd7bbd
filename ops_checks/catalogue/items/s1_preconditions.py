"""Live Trading Runbook §1 Preconditions Checklist: items 1.1.1–1.6.4."""

from __future__ import annotations

from functools import partial

from ops_checks.catalogue.model import (
    BOT_DECIDING,
    BOT_HEALTHY,
    CONFIGURATION,
    CONNECTIVITY,
    DATABASE,
    KILL_SWITCH,
    METRICS_READABLE,
    SAFETY_GATE,
    Item,
    table,
)

S11 = "1.1 Infrastructure Verification"
S12 = "1.2 Exchange Connectivity"
S13 = "1.3 Safety Systems"
S14 = "1.4 Monitoring & Alerting"
S15 = "1.5 Financial Verification"
S16 = "1.6 DRY_RUN Validation"

_s11 = partial(Item, section=S11, category=CONNECTIVITY)
_s12 = partial(Item, section=S12, category=CONNECTIVITY)
_s13 = partial(Item, section=S13, category=SAFETY_GATE)
_s14 = partial(Item, section=S14, category=CONNECTIVITY)
_s15 = partial(Item, section=S15, category=CONFIGURATION)
_s16 = partial(Item, section=S16, category=CONFIGURATION)
_DECISIONS = (DATABASE, table("policy_decision_audit"))

ITEMS: tuple[Item, ...] = (
    _s11(
        "1.1.1",
        "Database connectivity",
        check="ops_checks.checks.s1_preconditions.infra:database_connectivity",
        when='the application role runs "SELECT 1" against the bot\'s database',
    ),
    _s11(
        "1.1.2",
        "System settings exist",
        check="ops_checks.checks.s1_preconditions.infra:settings_row_valid",
        preconditions=(DATABASE,),
        when="the system_settings row id 1 is read",
    ),
    _s11(
        "1.1.3",
        "Circuit breaker table",
        check="ops_checks.checks.s1_preconditions.infra:table_queryable",
        check_args=("circuit_breaker_events",),
        preconditions=(DATABASE,),
        when='the rows of "circuit_breaker_events" are counted',
    ),
    _s11(
        "1.1.4",
        "Policy audit table",
        check="ops_checks.checks.s1_preconditions.infra:table_queryable",
        check_args=("policy_decision_audit",),
        preconditions=(DATABASE,),
        when='the rows of "policy_decision_audit" are counted',
    ),
    _s11(
        "1.1.5",
        "Containers running and healthy",
        check="ops_checks.checks.s1_preconditions.infra:services_healthy",
        when="the running services are listed",
    ),
    _s11(
        "1.1.6",
        "API endpoint responsive",
        check="ops_checks.checks.s1_preconditions.infra:api_health",
        when="the bot's health endpoint is called",
    ),
    _s12(
        "1.2.1",
        "VALR API reachable",
        check="ops_checks.checks.s1_preconditions.exchange:valr_reachable",
        when="VALR's public time and status are requested",
    ),
    _s12(
        "1.2.2",
        "API key valid",
        check="ops_checks.checks.s1_preconditions.exchange:api_key_valid",
        when="a signed request reads the API key's own description",
    ),
    _s12(
        "1.2.3",
        "Account balance readable",
        check="ops_checks.checks.s1_preconditions.exchange:balance_readable",
        preconditions=(METRICS_READABLE,),
        when="the account balances are read with a signed request",
    ),
    _s12(
        "1.2.4",
        "Clock drift within tolerance",
        check="ops_checks.checks.s8_clock_drift.drift:drift_within_tolerance",
        when="the clock offset to VALR is estimated from several samples",
    ),
    _s13(
        "1.3.1",
        "Kill switch functional",
        check="ops_checks.procedures.kill_switch:verify_kill_switch",
        mutating=True,
        preconditions=(DATABASE, table("circuit_breaker_events"), BOT_DECIDING),
        when="the kill switch is activated, HALT is awaited, and the kill switch is deactivated",
        topics=(KILL_SWITCH,),
    ),
    _s13(
        "1.3.2",
        "Circuit breaker configured",
        check="ops_checks.checks.s1_preconditions.safety:circuit_breaker_configured",
        preconditions=(DATABASE,),
        when="the circuit breaker limits are read from system_settings",
    ),
    _s13(
        "1.3.3",
        "Budget integration loaded",
        check="ops_checks.checks.s1_preconditions.logs:budget_loaded",
        when='the bot\'s logs are searched for "[BUDGET_LOADED]"',
    ),
    _s13(
        "1.3.4",
        "Health verification GREEN",
        check="ops_checks.checks.s1_preconditions.logs:health_green",
        when='the bot\'s logs are searched for "health_status="',
    ),
    _s13(
        "1.3.5",
        "Risk governor HEALTHY",
        check="ops_checks.checks.s1_preconditions.logs:risk_healthy",
        when='the bot\'s logs are searched for "risk_assessment="',
    ),
    _s14(
        "1.4.1",
        "Discord webhook configured",
        check="ops_checks.checks.s1_preconditions.monitoring:discord_test_message",
        check_needs=("run_id",),
        mutating=True,
        when="a test message is posted to the Discord webhook",
    ),
    _s14(
        "1.4.2",
        "Prometheus metrics",
        check="ops_checks.checks.s1_preconditions.monitoring:metrics_respond",
        when="the metrics endpoint is scraped",
    ),
    _s14(
        "1.4.3",
        "Grafana dashboards",
        check="ops_checks.checks.s1_preconditions.monitoring:grafana_dashboards",
        when="Grafana's health and dashboards are queried",
    ),
    _s14(
        "1.4.4",
        "Log aggregation",
        check="ops_checks.checks.s1_preconditions.logs:logs_being_written",
        when="the log directory is inspected",
    ),
    _s15(
        "1.5.1",
        "Starting equity recorded",
        check="ops_checks.checks.s1_preconditions.exchange:starting_equity_recorded",
        preconditions=(DATABASE,),
        when="the recorded starting equity is compared with the ZAR balance on VALR",
    ),
    _s15(
        "1.5.2",
        "ZAR_FLOOR configured",
        check="ops_checks.checks.s1_preconditions.limits:zar_floor",
        when="ZAR_FLOOR is read from the environment",
    ),
    _s15(
        "1.5.3",
        "MAX_ORDER_ZAR set",
        check="ops_checks.checks.s1_preconditions.limits:max_order",
        when="MAX_ORDER_ZAR is read from the environment",
    ),
    _s15(
        "1.5.4",
        "MAX_RISK_ZAR set",
        check="ops_checks.checks.s1_preconditions.limits:max_risk",
        when="MAX_RISK_ZAR is read from the environment",
    ),
    _s16(
        "1.6.1",
        "DRY_RUN mode active",
        check="ops_checks.checks.s1_preconditions.dry_run:execution_mode",
        preconditions=(BOT_HEALTHY,),
        when="EXECUTION_MODE is read from the environment and from the bot",
    ),
    # exchange_orders: a count of the orders the (simulated) exchange received, when the target can tell
    _s16(
        "1.6.2",
        "Test signal processed",
        check="ops_checks.checks.s1_preconditions.dry_run:test_signal",
        check_needs=("exchange_orders",),
        mutating=True,
        preconditions=_DECISIONS,
        when="a signed test signal is sent to the bot's webhook",
    ),
    _s16(
        "1.6.3",
        "Policy evaluation logged",
        check="ops_checks.checks.s1_preconditions.dry_run:decisions_logged",
        preconditions=_DECISIONS,
        when="the latest policy decision is read from the audit log",
    ),
    _s16(
        "1.6.4",
        "24-hour DRY_RUN period",
        check="ops_checks.checks.s1_preconditions.dry_run:dry_run_review",
        preconditions=_DECISIONS,
        when="the last 24 hours of decisions and orders are reviewed",
    ),
)
