@section_6_4
Feature: 6.4 Pre-Resume Verification
  Live Trading Runbook, §6 Post-Incident Checklist, §6.4 Pre-Resume Verification and §6.5 Resume Trading Procedure.
  Sandbox: `opscheck incident resume` on the drill's incident: the checks run in a fail-safe order and the kill switch
  is deactivated only after every other check passed; a resume before the root cause is documented is refused.
  Live: read-only, from the latest incident record's resume checks (an incident not yet resumed fails).

  Background:
    Given the resume reached this check

  @rb_6_4_1 @blocker
  Scenario: 6.4.1 Root cause identified
    Given the database is reachable
    When pre-resume check 6.4.1 is read from the incident record
    Then the runbook expects "Documented"

  @rb_6_4_2 @blocker
  Scenario: 6.4.2 Fix implemented (if applicable)
    Given the database is reachable
    When pre-resume check 6.4.2 is read from the incident record
    Then the runbook expects "Deployed"

  @rb_6_4_3 @blocker
  Scenario: 6.4.3 Kill switch deactivated only at resume
    Given the database is reachable
    When pre-resume check 6.4.3 is read from the incident record
    Then the runbook expects "FALSE"

  @rb_6_4_4 @blocker
  Scenario: 6.4.4 Health status GREEN
    Given the database is reachable
    When pre-resume check 6.4.4 is read from the incident record
    Then the runbook expects "GREEN"

  @rb_6_4_5 @blocker
  Scenario: 6.4.5 Budget integration loaded
    Given the database is reachable
    When pre-resume check 6.4.5 is read from the incident record
    Then the runbook expects "Loaded"

  @rb_6_4_6 @blocker
  Scenario: 6.4.6 Clock drift within tolerance
    Given the database is reachable
    When pre-resume check 6.4.6 is read from the incident record
    Then the runbook expects "< 1000ms"

  @rb_6_4_7 @blocker
  Scenario: 6.4.7 Exchange connectivity OK
    Given the database is reachable
    When pre-resume check 6.4.7 is read from the incident record
    Then the runbook expects "Connected"

  @rb_6_4_8 @blocker
  Scenario: 6.4.8 Daily P&L reset
    Given the database is reachable
    When pre-resume check 6.4.8 is read from the incident record
    Then the runbook expects "Reset"
