@section_6_1
Feature: 6.1 Immediate Post-Incident Actions
  Live Trading Runbook, §6 Post-Incident Checklist, §6.1 Immediate Post-Incident Actions and §6.2 System State Capture.
  Sandbox: an incident on a disposable sandbox (the bot's circuit breaker trips on the third consecutive loss), then
  `opscheck incident capture`: each row is the capture's own record (owner, time, evidence, checksummed files).
  Live: read-only, from the latest incident record (nothing to verify when there was never an incident and the kill
  switch is inactive).

  @rb_6_1_1 @blocker
  Scenario: 6.1.1 Kill switch confirmed active
    Given the database is reachable
    When immediate action 6.1.1 is read from the incident record
    Then the runbook expects "Confirm kill switch is active"

  @rb_6_1_2 @blocker
  Scenario: 6.1.2 Incident trigger documented
    Given the database is reachable
    When immediate action 6.1.2 is read from the incident record
    Then the runbook expects "Document incident trigger"

  @rb_6_1_3 @blocker
  Scenario: 6.1.3 System state captured
    Given the database is reachable
    When immediate action 6.1.3 is read from the incident record
    Then the runbook expects "Capture current system state"

  @rb_6_1_4 @blocker
  Scenario: 6.1.4 Relevant logs exported
    Given the database is reachable
    When immediate action 6.1.4 is read from the incident record
    Then the runbook expects "Export relevant logs"

  @rb_6_1_5 @blocker
  Scenario: 6.1.5 Stakeholders notified
    Given the database is reachable
    When immediate action 6.1.5 is read from the incident record
    Then the runbook expects "Notify stakeholders"

  @rb_6_1_6 @blocker
  Scenario: 6.1.6 Open positions assessed
    Given the database is reachable
    When immediate action 6.1.6 is read from the incident record
    Then the runbook expects "Assess open positions"
