@section_3_3
Feature: 3.3 Transition Checklist
  Live Trading Runbook, §3 DRY_RUN to LIVE Transition, §3.2 Transition Procedure, §3.3 Checklist, §3.4 Rollback.
  Sandbox: `opscheck transition` runs on a disposable sandbox, to LIVE (the test order goes to the VALR simulator)
  and back to DRY_RUN; each row is the step's own record (who verified it, when, the evidence). A failed step
  triggers the §3.4 rollback; the rows after it are "not reached". The session's sandbox stays DRY_RUN.
  Live: read-only, from the audit trail of the last transition (TRANSITION and TRANSITION_COMPLETE rows, operator
  and witness, first trade verified, the checklist recorded on completion).

  Background:
    Given the pre-transition requirements are met
    And the transition reached this row

  @rb_3_3_1 @blocker
  Scenario: 3.3.1 Audit record created
    Given the database is reachable
    When checklist row 3.3.1 is read from the transition record
    Then the runbook expects "Audit record created"

  @rb_3_3_2 @blocker
  Scenario: 3.3.2 Services stopped
    Given the database is reachable
    When checklist row 3.3.2 is read from the transition record
    Then the runbook expects "Services stopped"

  @rb_3_3_3 @blocker
  Scenario: 3.3.3 Backup created
    Given the database is reachable
    When checklist row 3.3.3 is read from the transition record
    Then the runbook expects "Backup created"

  @rb_3_3_4 @blocker
  Scenario: 3.3.4 Environment updated
    Given the database is reachable
    When checklist row 3.3.4 is read from the transition record
    Then the runbook expects "Environment updated"

  @rb_3_3_5 @blocker
  Scenario: 3.3.5 Configuration verified
    Given the database is reachable
    When checklist row 3.3.5 is read from the transition record
    Then the runbook expects "Configuration verified"

  @rb_3_3_6 @blocker
  Scenario: 3.3.6 Daily P&L reset
    Given the database is reachable
    When checklist row 3.3.6 is read from the transition record
    Then the runbook expects "Daily P&L reset"

  @rb_3_3_7 @blocker
  Scenario: 3.3.7 Services started
    Given the database is reachable
    When checklist row 3.3.7 is read from the transition record
    Then the runbook expects "Services started"

  @rb_3_3_8 @blocker
  Scenario: 3.3.8 LIVE mode verified
    Given the database is reachable
    When checklist row 3.3.8 is read from the transition record
    Then the runbook expects "LIVE mode verified"

  @rb_3_3_9 @blocker
  Scenario: 3.3.9 Test signal successful
    Given the database is reachable
    When checklist row 3.3.9 is read from the transition record
    Then the runbook expects "Test signal successful"

  @rb_3_3_10 @blocker
  Scenario: 3.3.10 Transition complete
    Given the database is reachable
    When checklist row 3.3.10 is read from the transition record
    Then the runbook expects "Transition complete"
