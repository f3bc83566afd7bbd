"""Live Trading Runbook §1 Preconditions Checklist: items 1.1.1–1.6.4."""

from __future__ import annotations

from ops_checks.item import Item

S11 = "1.1 Infrastructure Verification"
S12 = "1.2 Exchange Connectivity"
S13 = "1.3 Safety Systems"
S14 = "1.4 Monitoring & Alerting"
S15 = "1.5 Financial Verification"
S16 = "1.6 DRY_RUN Validation"

ITEMS: tuple[Item, ...] = (
    Item("1.1.1", "Database connectivity", S11),
    Item("1.1.2", "System settings exist", S11),
    Item("1.1.3", "Circuit breaker table", S11),
    Item("1.1.4", "Policy audit table", S11),
    Item("1.1.5", "Containers running and healthy", S11),
    Item("1.1.6", "API endpoint responsive", S11),
    Item("1.2.1", "VALR API reachable", S12),
    Item("1.2.2", "API key valid", S12),
    Item("1.2.3", "Account balance readable", S12),
    Item("1.2.4", "Clock drift within tolerance", S12),
    Item("1.3.1", "Kill switch functional", S13),
    Item("1.3.2", "Circuit breaker configured", S13),
    Item("1.3.3", "Budget integration loaded", S13),
    Item("1.3.4", "Health verification GREEN", S13),
    Item("1.3.5", "Risk governor HEALTHY", S13),
    Item("1.4.1", "Discord webhook configured", S14),
    Item("1.4.2", "Prometheus metrics", S14),
    Item("1.4.3", "Grafana dashboards", S14),
    Item("1.4.4", "Log aggregation", S14),
    Item("1.5.1", "Starting equity recorded", S15),
    Item("1.5.2", "ZAR_FLOOR configured", S15),
    Item("1.5.3", "MAX_ORDER_ZAR set", S15),
    Item("1.5.4", "MAX_RISK_ZAR set", S15),
    Item("1.6.1", "DRY_RUN mode active", S16),
    Item("1.6.2", "Test signal processed", S16),
    Item("1.6.3", "Policy evaluation logged", S16),
    Item("1.6.4", "24-hour DRY_RUN period", S16),
)
