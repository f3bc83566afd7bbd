@section_sop_daily
Feature: sop.daily Prevention Checklist: Daily
  Incident Response SOP, Prevention Checklist, Daily: review error logs, check latency metrics, verify
  position limits, test kill switch.

  @sop_daily_1 @warning
  Scenario: sop.daily.1 Error logs reviewed: no ERROR lines
    When the bot's recent log lines are searched for errors
    Then the runbook expects "No unreviewed errors"

  @sop_daily_2 @blocker
  Scenario: sop.daily.2 Latency metrics available
    When the bot's latency metrics are read
    Then the runbook expects "Latency metrics available"

  @sop_daily_3 @blocker
  Scenario: sop.daily.3 Resting orders within MAX_RISK_ZAR
    When the orders resting on the exchange are valued
    Then the runbook expects "Within MAX_RISK_ZAR"

  @sop_daily_4 @blocker
  Scenario: sop.daily.4 Kill switch tested within 26 h
    Given the database is reachable
    When the last kill-switch test is looked up
    Then the runbook expects "Kill switch tested today"
