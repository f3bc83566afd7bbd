@section_1_3
Feature: 1.3 Safety Systems
  Live Trading Runbook, §1 Preconditions Checklist, §1.3 Safety Systems.
  The kill switch works, the circuit breaker has the runbook's limits, and the bot's safety inputs are healthy.

  @rb_1_3_1 @blocker @mutating
  Scenario: 1.3.1 Kill switch functional
    Given the database is reachable
    And the table "circuit_breaker_events" is readable
    And the bot is recording policy decisions
    When the kill switch is activated, HALT is awaited, and the kill switch is deactivated
    Then the runbook expects "Kill switch activates/deactivates"

  @rb_1_3_2 @blocker
  Scenario: 1.3.2 Circuit breaker configured
    Given the database is reachable
    When the circuit breaker limits are read from system_settings
    Then the runbook expects "0.03, 3"

  @rb_1_3_3 @blocker
  Scenario: 1.3.3 Budget integration loaded
    When the bot's logs are searched for "[BUDGET_LOADED]"
    Then the runbook expects "Budget data parsed"

  @rb_1_3_4 @blocker
  Scenario: 1.3.4 Health verification GREEN
    When the bot's logs are searched for "health_status="
    Then the runbook expects "All health checks pass"

  @rb_1_3_5 @blocker
  Scenario: 1.3.5 Risk governor HEALTHY
    When the bot's logs are searched for "risk_assessment="
    Then the runbook expects "Risk within limits"
