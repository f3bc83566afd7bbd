@section_4_5
Feature: 4.5 Kill Switch Response Time
  Live Trading Runbook, §4 Kill Switch Verification, §4.5 Kill Switch Response Time.
  The kill switch must act within 1 second of the database update. Timed from the committed UPDATE to the first
  HALT_KILL_SWITCH decision the bot records, polled every 10 ms (the runbook's script sleeps a full second and so
  can never pass). Measured during the §4.3 procedure; the figure is the evidence.

  @rb_4_5_1 @blocker @mutating
  Scenario: 4.5.1 Kill switch response time
    Given the database is reachable
    And the table "policy_decision_audit" is readable
    When the time from the committed UPDATE to the first HALT decision is measured
    Then the runbook expects "< 1000ms"
