@section_3_1
Feature: 3.1 Pre-Transition Requirements
  Live Trading Runbook, §3 DRY_RUN to LIVE Transition, §3.1 Pre-Transition Requirements.
  Sandbox: a disposable sandbox runs its pre-transition preflight (every §1 and §2.1-2.3 blocker, the §4.3 kill-switch
  flow) and the transition's own gate reads that verdict: fresh, GO, same target, signed by two people.
  Live: read-only, from the audit trail: the requirements the gate recorded on the last DRY_RUN to LIVE transition
  (nothing to audit while the bot runs DRY_RUN).

  @rb_3_1_1 @blocker
  Scenario: 3.1.1 24-hour DRY_RUN period completed
    Given the database is reachable
    When pre-transition requirement 3.1.1 is checked
    Then the runbook expects "24-hour DRY_RUN period completed without anomalies"

  @rb_3_1_2 @blocker
  Scenario: 3.1.2 All §1 preconditions verified
    Given the database is reachable
    When pre-transition requirement 3.1.2 is checked
    Then the runbook expects "All preconditions from Section 1 verified"

  @rb_3_1_3 @blocker
  Scenario: 3.1.3 All §2 environment variables verified
    Given the database is reachable
    When pre-transition requirement 3.1.3 is checked
    Then the runbook expects "All environment variables from Section 2 verified"

  @rb_3_1_4 @blocker
  Scenario: 3.1.4 Kill switch tested per §4
    Given the database is reachable
    When pre-transition requirement 3.1.4 is checked
    Then the runbook expects "Kill switch tested per Section 4"

  @rb_3_1_5 @blocker
  Scenario: 3.1.5 Clock drift verified per §8
    Given the database is reachable
    When pre-transition requirement 3.1.5 is checked
    Then the runbook expects "Clock drift verified per Section 8"

  @rb_3_1_6 @blocker
  Scenario: 3.1.6 Two authorised operators present
    Given the database is reachable
    When pre-transition requirement 3.1.6 is checked
    Then the runbook expects "Two authorized operators present (four-eyes principle)"
