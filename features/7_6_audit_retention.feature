@section_7_6
Feature: 7.6 Audit Retention Policy
  Live Trading Runbook, §7 Audit Extraction Steps, §7.6 Audit Retention Policy.
  Audit rows are kept 7 years (only an archival with two approvals may move older rows to cold storage), and the
  bot's own database role cannot delete them.

  @rb_7_6_1 @blocker
  Scenario: 7.6.1 Audit rows retained
    Given the database is reachable
    And the table "policy_decision_audit" is readable
    When the oldest audit rows are compared with the recorded inception and archival records
    Then the runbook expects "7 years"

  @rb_7_6_2 @warning
  Scenario: 7.6.2 Bot role cannot delete audit rows
    Given the database is reachable
    When the bot's privileges on the audit tables are read
    Then the runbook expects "Requires 2 approvals"
