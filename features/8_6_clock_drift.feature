@section_8_6
Feature: 8.6 Clock Drift Verification Checklist
  Live Trading Runbook, §8 Exchange Clock Drift Verification, §8.6 Clock Drift Verification Checklist
  (procedure §8.2–§8.3). The offset to VALR's clock is measured from several samples with its error bound
  (not §8.2.1's single reading that ignores the round trip); the host's NTP status, the bot's own time-sync
  lines, and a signed request signed and sent with one timestamp.

  @rb_8_6_1 @blocker
  Scenario: 8.6.1 Exchange time reachable
    When VALR's public time is requested
    Then the runbook expects "JSON response"

  @rb_8_6_2 @blocker
  Scenario: 8.6.2 Drift < 1000 ms (measured with its bound)
    Given VALR's clock can be read
    When the clock offset to VALR is judged against the tolerance
    Then the runbook expects "< 1000ms"

  @rb_8_6_3 @blocker
  Scenario: 8.6.3 Host NTP synchronised
    Given an NTP status tool answers on this host
    When the host's NTP status is read
    Then the runbook expects "yes"

  @rb_8_6_4 @blocker
  Scenario: 8.6.4 Bot time-sync logs OK
    Given the exchange clock is within tolerance
    When the bot's time-sync log lines are read
    Then the runbook expects "No DRIFT errors"

  @rb_8_6_5 @blocker
  Scenario: 8.6.5 Signed API request accepted
    When a signed request reads the account balances with one timestamp
    Then the runbook expects "200 OK"
