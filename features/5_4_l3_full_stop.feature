@section_5_4
Feature: 5.4 L3: Full Service Shutdown
  Live Trading Runbook, §5 Emergency Shutdown Procedure, §5.4 L3: Full Service Shutdown.
  Sandbox: the drill stops every service; no orphan session remains and the database no longer accepts the bot.
  Live: read-only readiness: every expected service is in the service list.

  @rb_5_4_1 @blocker
  Scenario: 5.4.1 L3 full stop
    When all services are stopped
    Then the runbook expects "No containers running"
