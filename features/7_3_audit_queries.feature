@section_7_3
Feature: 7.3 Specific Audit Queries
  Live Trading Runbook, §7 Audit Extraction Steps, §7.3 Specific Audit Queries.
  The runbook's four queries over the audit window (the last 30 days), their rows attached as report sections.

  @rb_7_3_1 @warning
  Scenario: 7.3.1 Policy decision summary
    Given the database is reachable
    And the table "policy_decision_audit" is readable
    When the policy decision summary is queried
    Then the runbook expects "Summary of policy decisions by type"

  @rb_7_3_2 @warning
  Scenario: 7.3.2 Kill switch activations
    Given the database is reachable
    And the table "circuit_breaker_events" is readable
    When the kill switch activations are queried
    Then the runbook expects "All kill switch activations"

  @rb_7_3_3 @blocker
  Scenario: 7.3.3 Trade execution audit
    Given the database is reachable
    And the table "trading_orders" is readable
    And the table "policy_decision_audit" is readable
    When the executed trades are queried with their policy correlation
    Then the runbook expects "All executed trades with policy correlation"

  @rb_7_3_4 @warning
  Scenario: 7.3.4 AI confidence vs policy decision
    Given the database is reachable
    And the table "policy_decision_audit" is readable
    When AI confidence is compared with the policy decisions
    Then the runbook expects "Compare AI confidence with policy decisions"
