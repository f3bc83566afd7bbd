@section_2_3
Feature: 2.3 Verification Script
  Live Trading Runbook, §2 Environment Variable Verification, §2.3 Verification Script (verify_env.sh).
  The script only checks that MAX_ORDER_ZAR, MAX_RISK_ZAR and ZAR_FLOOR are set; they must also parse as
  positive amounts and agree with each other and with the recorded starting equity.

  @rb_2_3_1 @blocker
  Scenario: 2.3.1 Trading limits parse and are consistent
    Given the database is reachable
    When MAX_ORDER_ZAR, MAX_RISK_ZAR and ZAR_FLOOR are compared with each other and the starting equity
    Then the runbook expects "ALL CHECKS PASSED"
