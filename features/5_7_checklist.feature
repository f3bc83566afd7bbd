@section_5_7
Feature: 5.7 Emergency Shutdown Checklist
  Live Trading Runbook, §5 Emergency Shutdown Procedure, §5.7 Emergency Shutdown Checklist.
  Sandbox: after the L1–L4 drill the checklist is filled as an emergency would fill it, and each row is verified
  from what the environment shows, with its time. Live: read-only readiness of each row (nothing is written,
  stopped or sent). A row resting on a level (1 on L1, 2 on L2) is not verified when that level's drill failed:
  the level's item owns the failure.

  @rb_5_7_1 @blocker
  Scenario: 5.7.1 Kill switch activated
    Given the database is reachable
    And emergency level 5.2.1 was carried out
    When emergency checklist row 5.7.1 is verified
    Then the runbook expects "Kill switch activated: completed, with the time"

  @rb_5_7_2 @blocker
  Scenario: 5.7.2 Trading services stopped
    Given emergency level 5.3.1 was carried out
    When emergency checklist row 5.7.2 is verified
    Then the runbook expects "Trading services stopped: completed, with the time"

  @rb_5_7_3 @blocker
  Scenario: 5.7.3 Open positions reviewed
    When emergency checklist row 5.7.3 is verified
    Then the runbook expects "Open positions reviewed: completed, with the time"

  @rb_5_7_4 @blocker
  Scenario: 5.7.4 Incident logged
    Given the database is reachable
    When emergency checklist row 5.7.4 is verified
    Then the runbook expects "Incident logged: completed, with the time"

  @rb_5_7_5 @blocker
  Scenario: 5.7.5 Stakeholders notified
    When emergency checklist row 5.7.5 is verified
    Then the runbook expects "Stakeholders notified: completed, with the time"

  @rb_5_7_6 @blocker
  Scenario: 5.7.6 Root cause identified
    Given the database is reachable
    When emergency checklist row 5.7.6 is verified
    Then the runbook expects "Root cause identified: completed, with the time"
