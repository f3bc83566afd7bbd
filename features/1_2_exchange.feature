@section_1_2
Feature: 1.2 Exchange Connectivity
  Live Trading Runbook, §1 Preconditions Checklist, §1.2 Exchange Connectivity.
  VALR answers, our key authenticates and can trade, the balance is readable, and our clock agrees with VALR's.

  @rb_1_2_1 @blocker
  Scenario: 1.2.1 VALR API reachable
    When VALR's public time and status are requested
    Then the runbook expects "Returns JSON with epochTime"

  @rb_1_2_2 @blocker
  Scenario: 1.2.2 API key valid
    When a signed request reads the API key's own description
    Then the runbook expects "Authentication succeeds"

  @rb_1_2_3 @blocker
  Scenario: 1.2.3 Account balance readable
    Given the bot's metrics are readable
    When the account balances are read with a signed request
    Then the runbook expects "Balance matches expected"

  @rb_1_2_4 @blocker
  Scenario: 1.2.4 Clock drift within tolerance
    When the clock offset to VALR is estimated from several samples
    Then the runbook expects "Drift < 1000ms"
