@section_1_6
Feature: 1.6 DRY_RUN Validation
  Live Trading Runbook, §1 Preconditions Checklist, §1.6 DRY_RUN Validation.
  The bot is in DRY_RUN, handles a signed test signal without trading, logs its decisions, and has 24 clean hours.

  @rb_1_6_1 @blocker
  Scenario: 1.6.1 DRY_RUN mode active
    Given the bot's API is healthy
    When EXECUTION_MODE is read from the environment and from the bot
    Then the runbook expects "Returns DRY_RUN"

  @rb_1_6_2 @blocker @mutating
  Scenario: 1.6.2 Test signal processed
    Given the database is reachable
    And the table "policy_decision_audit" is readable
    When a signed test signal is sent to the bot's webhook
    Then the runbook expects "Signal logged, no real order"

  @rb_1_6_3 @blocker
  Scenario: 1.6.3 Policy evaluation logged
    Given the database is reachable
    And the table "policy_decision_audit" is readable
    When the latest policy decision is read from the audit log
    Then the runbook expects "PolicyDecision logged"

  @rb_1_6_4 @blocker
  Scenario: 1.6.4 24-hour DRY_RUN period
    Given the database is reachable
    And the table "policy_decision_audit" is readable
    When the last 24 hours of decisions and orders are reviewed
    Then the runbook expects "No anomalies detected"
