@section_4_4
Feature: 4.4 Kill Switch Verification Checklist
  Live Trading Runbook, §4 Kill Switch Verification, §4.3 Verification Procedure and §4.4 Checklist.
  The kill switch must be tested before every live session. The six steps run once, in order, as one procedure
  holding an advisory lock: a step is only taken when the previous one passed; on any failure or interruption the
  kill switch is left ACTIVE, and the steps not reached are "not verified". The kill switch is
  system_settings.circuit_breaker_active (§4.2 Method 1); a bot that decides per signal is made to decide by a
  signed test signal in its own format.

  Background:
    Given the database is reachable
    And the table "circuit_breaker_events" is readable
    And the table "policy_decision_audit" is readable

  @rb_4_4_1 @blocker @mutating
  Scenario: 4.4.1 Initial state checked
    When the kill switch's current state is checked
    Then the runbook expects "Initial state checked"

  @rb_4_4_2 @blocker @mutating
  Scenario: 4.4.2 Kill switch activated
    When the kill switch is activated
    Then the runbook expects "Kill switch activated"

  @rb_4_4_3 @blocker @mutating
  Scenario: 4.4.3 HALT decision verified
    When the bot's policy decisions are watched for HALT
    Then the runbook expects "policy_decision = HALT, reason_code = HALT_KILL_SWITCH"

  @rb_4_4_4 @blocker @mutating
  Scenario: 4.4.4 Test trade rejected
    When a signed test trade is sent while the kill switch is active
    Then the runbook expects "Trade blocked by policy: HALT_KILL_SWITCH"

  @rb_4_4_5 @blocker @mutating
  Scenario: 4.4.5 Kill switch deactivated
    When the kill switch is deactivated
    Then the runbook expects "circuit_breaker_active = false"

  @rb_4_4_6 @blocker @mutating
  Scenario: 4.4.6 ALLOW decision verified
    When the bot's policy decisions are watched for ALLOW
    Then the runbook expects "Policy evaluation: ALLOW"
