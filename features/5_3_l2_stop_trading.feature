@section_5_3
Feature: 5.3 L2: Stop Trading Services
  Live Trading Runbook, §5 Emergency Shutdown Procedure, §5.3 L2: Stop Trading Services.
  Sandbox: the drill stops the bot; its API goes away, it decides nothing more, and nothing reaches the exchange.
  Live: read-only readiness: the container the runbook stops is in the service list.

  @rb_5_3_1 @blocker
  Scenario: 5.3.1 L2 bot stop leaves no exchange traffic
    When the trading bot is stopped
    Then the runbook expects "No output (container stopped); no active connections to exchange"
