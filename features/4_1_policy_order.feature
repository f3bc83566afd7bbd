@section_4_1
Feature: 4.1 Kill Switch Overview
  Live Trading Runbook, §4 Kill Switch Verification, §4.1 Kill Switch Overview.
  The TradePermissionPolicy decides in a fixed order: kill switch → HALT, budget not ALLOW → HALT,
  health not GREEN → NEUTRAL, risk CRITICAL → HALT, otherwise ALLOW. Every decision the bot recorded
  recently must be the one that order gives for the inputs it recorded with it.
  (A blocker in the sandbox; a warning on live.)

  @rb_4_1_1 @blocker
  Scenario: 4.1.1 Recorded decisions follow the evaluation order
    Given the database is reachable
    And the table "policy_decision_audit" is readable
    When the recent policy decisions are replayed through the evaluation order
    Then the runbook expects "All trades blocked while kill_switch_active is TRUE"
