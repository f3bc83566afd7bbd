@section_1_5
Feature: 1.5 Financial Verification
  Live Trading Runbook, §1 Preconditions Checklist, §1.5 Financial Verification.
  Starting equity matches the exchange, and the ZAR limits are set to sane values.

  @rb_1_5_1 @blocker
  Scenario: 1.5.1 Starting equity recorded
    Given the database is reachable
    When the recorded starting equity is compared with the ZAR balance on VALR
    Then the runbook expects "Matches actual balance"

  @rb_1_5_2 @blocker
  Scenario: 1.5.2 ZAR_FLOOR configured
    When ZAR_FLOOR is read from the environment
    Then the runbook expects "Matches expected floor"

  @rb_1_5_3 @blocker
  Scenario: 1.5.3 MAX_ORDER_ZAR set
    When MAX_ORDER_ZAR is read from the environment
    Then the runbook expects "Appropriate limit (e.g., R5,000)"

  @rb_1_5_4 @blocker
  Scenario: 1.5.4 MAX_RISK_ZAR set
    When MAX_RISK_ZAR is read from the environment
    Then the runbook expects "Appropriate limit (e.g., R5,000)"
