@section_8_5
Feature: 8.5 Clock Drift Monitoring Dashboard
  Live Trading Runbook, §8 Exchange Clock Drift Verification, §8.5 Clock Drift Monitoring Dashboard.
  The three PromQL lines of the dashboard, read from the bot's Prometheus text: the current drift, and no
  drift-exceeded events or time-sync failures over the last hour.

  @rb_8_5_1 @blocker
  Scenario: 8.5.1 Drift gauge exported and within tolerance
    Given the exchange clock is within tolerance
    When the bot's exchange_clock_drift_ms gauge is read
    Then the runbook expects "exchange_clock_drift_ms within tolerance"

  @rb_8_5_2 @blocker
  Scenario: 8.5.2 No drift-exceeded events in the window
    Given the exchange clock is within tolerance
    When the increase of exchange_clock_drift_exceeded_total over the window is read
    Then the runbook expects "increase(exchange_clock_drift_exceeded_total[1h]) = 0"

  @rb_8_5_3 @blocker
  Scenario: 8.5.3 No time-sync failures in the window
    Given VALR's clock can be read
    When the increase of exchange_time_sync_failures_total over the window is read
    Then the runbook expects "increase(exchange_time_sync_failures_total[1h]) = 0"
