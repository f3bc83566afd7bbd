@section_1_1
Feature: 1.1 Infrastructure Verification
  Live Trading Runbook, §1 Preconditions Checklist, §1.1 Infrastructure Verification.
  The database, the settings row, the audit tables, the services and the bot's API.

  @rb_1_1_1 @blocker
  Scenario: 1.1.1 Database connectivity
    When the application role runs "SELECT 1" against the bot's database
    Then the runbook expects "Returns 1"

  @rb_1_1_2 @blocker
  Scenario: 1.1.2 System settings exist
    Given the database is reachable
    When the system_settings row id 1 is read
    Then the runbook expects "Row exists with valid data"

  @rb_1_1_3 @blocker
  Scenario: 1.1.3 Circuit breaker table
    Given the database is reachable
    When the rows of "circuit_breaker_events" are counted
    Then the runbook expects "Query succeeds"

  @rb_1_1_4 @blocker
  Scenario: 1.1.4 Policy audit table
    Given the database is reachable
    When the rows of "policy_decision_audit" are counted
    Then the runbook expects "Query succeeds"

  @rb_1_1_5 @blocker
  Scenario: 1.1.5 Containers running and healthy
    When the running services are listed
    Then the runbook expects "All containers healthy"

  @rb_1_1_6 @blocker
  Scenario: 1.1.6 API endpoint responsive
    When the bot's health endpoint is called
    Then the runbook expects "Returns {"status": "healthy"}"
