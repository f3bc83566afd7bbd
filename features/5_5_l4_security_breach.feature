@section_5_5
Feature: 5.5 L4: Full Shutdown with API Revocation
  Live Trading Runbook, §5 Emergency Shutdown Procedure, §5.5 L4: Full Shutdown with API Revocation.
  Sandbox: the drill runs the L4 kill-switch statement verbatim, streams the audit dump out (CSV and SHA-256
  manifest) and produces the revocation and rotation checklist. Live: read-only readiness: the statement is valid,
  the audit tables can be streamed out by the role, and the checklist is produced.

  @rb_5_5_1 @blocker
  Scenario: 5.5.1 L4 revocation checklist and audit dump
    Given the database is reachable
    When a security-breach shutdown is rehearsed
    Then the runbook expects "Kill switch, services down, keys revoked, secrets rotated, audit dump taken"
