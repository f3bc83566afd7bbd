@section_8_7
Feature: 8.7 Clock Drift Alert Thresholds
  Live Trading Runbook, §8 Exchange Clock Drift Verification, §8.7 Clock Drift Alert Thresholds.
  The measured drift is placed in a band only when its error bound allows; the warning and critical bands
  are reported without blocking; above 1000 ms the bot must go NEUTRAL, so its guard must read the true drift.

  @rb_8_7_1 @warning
  Scenario: 8.7.1 Drift band decided by measurement
    Given VALR's clock can be read
    When the measured clock offset is placed in a band
    Then the runbook expects "0-500 Healthy: None"

  @rb_8_7_2 @warning
  Scenario: 8.7.2 Drift not in the warning band (500-800 ms)
    Given VALR's clock can be read
    When the measured clock offset is compared with the warning band
    Then the runbook expects "500-800 Warning: Monitor closely"

  @rb_8_7_3 @warning
  Scenario: 8.7.3 Drift not in the critical band (800-1000 ms)
    Given VALR's clock can be read
    When the measured clock offset is compared with the critical band
    Then the runbook expects "800-1000 Critical: Prepare to sync"

  @rb_8_7_4 @blocker
  Scenario: 8.7.4 NEUTRAL above 1000 ms: bot guard reads the true drift
    Given VALR's clock can be read
    When the bot's drift guard is compared with the measured offset
    Then the runbook expects ">1000 NEUTRAL: System enters NEUTRAL"
