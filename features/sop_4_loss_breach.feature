@section_sop_4
Feature: sop.4 Daily Loss Breach
  Incident Response SOP, §4 Daily Loss Breach: trading halted at the limit, positions reduce-only, open
  orders cancelled, alert sent. The drill drives P&L past the limit in a disposable sandbox.

  @sop_4_1 @blocker
  Scenario: sop.4.1 Loss limits hold, or the breach is fully handled
    Given the database is reachable
    When the daily P&L and consecutive losses are compared with system_settings
    Then the runbook expects "Within limits, or halted, reduce-only, orders cancelled, alert sent"

  @sop_4_2 @blocker
  Scenario: sop.4.2 Loss-breach drill: circuit breaker, reduce-only, no orders, alert
    Given the database is reachable
    When the daily P&L is driven past the loss limit
    Then the runbook expects "Halted, reduce-only, orders cancelled, alert sent"
