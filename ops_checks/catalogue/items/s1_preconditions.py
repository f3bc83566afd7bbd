"""Live Trading Runbook §1 Preconditions Checklist: items 1.1.1–1.6.4."""

from __future__ import annotations

from functools import partial

from ops_checks.catalogue.model import (
    BOT_DECIDING,
    BOT_HEALTHY,
    CONFIGURATION,
    CONNECTIVITY,
    DATABASE,
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
    _s11("1.1.1", "Database connectivity", check="ops_checks.checks.s1_preconditions.infra:database_connectivity"),
    _s11(
        "1.1.2",
        "System settings exist",
        check="ops_checks.checks.s1_preconditions.infra:settings_row_valid",
        preconditions=(DATABASE,),
    ),
    _s11(
        "1.1.3",
        "Circuit breaker table",
        check="ops_checks.checks.s1_preconditions.infra:table_queryable",
        check_args=("circuit_breaker_events",),
        preconditions=(DATABASE,),
    ),
    _s11(
        "1.1.4",
        "Policy audit table",
        check="ops_checks.checks.s1_preconditions.infra:table_queryable",
        check_args=("policy_decision_audit",),
        preconditions=(DATABASE,),
    ),
    _s11("1.1.5", "Containers running and healthy", check="ops_checks.checks.s1_preconditions.infra:services_healthy"),
    _s11("1.1.6", "API endpoint responsive", check="ops_checks.checks.s1_preconditions.infra:api_health"),
    _s12("1.2.1", "VALR API reachable", check="ops_checks.checks.s1_preconditions.exchange:valr_reachable"),
    _s12("1.2.2", "API key valid", check="ops_checks.checks.s1_preconditions.exchange:api_key_valid"),
    _s12(
        "1.2.3",
        "Account balance readable",
        check="ops_checks.checks.s1_preconditions.exchange:balance_readable",
        preconditions=(METRICS_READABLE,),
    ),
    _s12(
        "1.2.4", "Clock drift within tolerance", check="ops_checks.checks.s8_clock_drift.drift:drift_within_tolerance"
    ),
    _s13(
        "1.3.1",
        "Kill switch functional",
        check="ops_checks.procedures.kill_switch:verify_kill_switch",
        mutating=True,
        preconditions=(DATABASE, table("circuit_breaker_events"), BOT_DECIDING),
    ),
    _s13(
        "1.3.2",
        "Circuit breaker configured",
        check="ops_checks.checks.s1_preconditions.safety:circuit_breaker_configured",
        preconditions=(DATABASE,),
    ),
    _s13("1.3.3", "Budget integration loaded", check="ops_checks.checks.s1_preconditions.logs:budget_loaded"),
    _s13("1.3.4", "Health verification GREEN", check="ops_checks.checks.s1_preconditions.logs:health_green"),
    _s13("1.3.5", "Risk governor HEALTHY", check="ops_checks.checks.s1_preconditions.logs:risk_healthy"),
    _s14(
        "1.4.1",
        "Discord webhook configured",
        check="ops_checks.checks.s1_preconditions.monitoring:discord_test_message",
        check_needs=("run_id",),
        mutating=True,
    ),
    _s14("1.4.2", "Prometheus metrics", check="ops_checks.checks.s1_preconditions.monitoring:metrics_respond"),
    _s14("1.4.3", "Grafana dashboards", check="ops_checks.checks.s1_preconditions.monitoring:grafana_dashboards"),
    _s14("1.4.4", "Log aggregation", check="ops_checks.checks.s1_preconditions.logs:logs_being_written"),
    _s15(
        "1.5.1",
        "Starting equity recorded",
        check="ops_checks.checks.s1_preconditions.exchange:starting_equity_recorded",
        preconditions=(DATABASE,),
    ),
    _s15("1.5.2", "ZAR_FLOOR configured", check="ops_checks.checks.s1_preconditions.limits:zar_floor"),
    _s15("1.5.3", "MAX_ORDER_ZAR set", check="ops_checks.checks.s1_preconditions.limits:max_order"),
    _s15("1.5.4", "MAX_RISK_ZAR set", check="ops_checks.checks.s1_preconditions.limits:max_risk"),
    _s16(
        "1.6.1",
        "DRY_RUN mode active",
        check="ops_checks.checks.s1_preconditions.dry_run:execution_mode",
        preconditions=(BOT_HEALTHY,),
    ),
    # exchange_orders: a count of the orders the (simulated) exchange received, when the target can tell
    _s16(
        "1.6.2",
        "Test signal processed",
        check="ops_checks.checks.s1_preconditions.dry_run:test_signal",
        check_needs=("exchange_orders",),
        mutating=True,
        preconditions=_DECISIONS,
    ),
    _s16(
        "1.6.3",
        "Policy evaluation logged",
        check="ops_checks.checks.s1_preconditions.dry_run:decisions_logged",
        preconditions=_DECISIONS,
    ),
    _s16(
        "1.6.4",
        "24-hour DRY_RUN period",
        check="ops_checks.checks.s1_preconditions.dry_run:dry_run_review",
        preconditions=_DECISIONS,
    ),
)
