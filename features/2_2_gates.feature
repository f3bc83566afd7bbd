@section_2_2
Feature: 2.2 LIVE Trading Gate Variables
  Live Trading Runbook, §2 Environment Variable Verification, §2.2 LIVE Trading Gate Variables.
  Evaluated for the mode this preflight is for (EXPECTED_EXECUTION_MODE, default DRY_RUN): a DRY_RUN preflight
  expects DRY_RUN and no LIVE_TRADING_CONFIRMED; a LIVE preflight expects the runbook's LIVE pair.

  @rb_2_2_1 @blocker
  Scenario: 2.2.1 EXECUTION_MODE gate
    When EXECUTION_MODE is compared with the mode of this preflight
    Then the runbook expects "LIVE"

  @rb_2_2_2 @blocker
  Scenario: 2.2.2 LIVE_TRADING_CONFIRMED gate
    When LIVE_TRADING_CONFIRMED is compared with the mode of this preflight
    Then the runbook expects "TRUE"

  @rb_2_2_3 @blocker
  Scenario: 2.2.3 KILL_SWITCH_ENABLED true
    When KILL_SWITCH_ENABLED is read from the environment
    Then the runbook expects "true"

  @rb_2_2_4 @warning
  Scenario: 2.2.4 BUDGETGUARD_STRICT_MODE true
    When BUDGETGUARD_STRICT_MODE is read from the environment
    Then the runbook expects "true (recommended)"
