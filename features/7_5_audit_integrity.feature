@section_7_5
Feature: 7.5 Audit Data Integrity Verification
  Live Trading Runbook, §7 Audit Extraction Steps, §7.5 Audit Data Integrity Verification.
  Decisions on every day of the last 30 while the bot was running, no silence longer than the threshold, and
  every trade traceable to a policy decision.

  @rb_7_5_1 @blocker
  Scenario: 7.5.1 No day without decisions
    Given the database is reachable
    And the table "policy_decision_audit" is readable
    When the policy decisions of the last 30 days are counted per day
    Then the runbook expects "Check for gaps in policy decisions"

  @rb_7_5_2 @blocker
  Scenario: 7.5.2 No gap in decisions
    Given the database is reachable
    And the table "policy_decision_audit" is readable
    When the policy decisions of the last 30 days are scanned for gaps
    Then the runbook expects "Check for gaps in policy decisions"

  @rb_7_5_3 @blocker
  Scenario: 7.5.3 Every trade has a policy decision
    Given the database is reachable
    And the table "trading_orders" is readable
    And the table "policy_decision_audit" is readable
    When the trades of the last 30 days are matched to their policy decisions
    Then the runbook expects "Verify all trades have policy decisions"
