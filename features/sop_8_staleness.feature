@section_sop_8
Feature: sop.8 Staleness Events
  Incident Response SOP, §8 Staleness Events: no updates for > 5 s blocks entries (reduce-only); > 30 s
  activates the kill switch. Drilled with a stalled feed in a disposable sandbox.

  @sop_8_1 @blocker
  Scenario: sop.8.1 Data older than 5 s blocks entries
    When the bot's market-data age and reduce-only state are read
    Then the runbook expects "Age > 5s: entries blocked"

  @sop_8_2 @blocker
  Scenario: sop.8.2 Data older than 30 s activates the kill switch
    When the bot's market-data age and kill-switch state are read
    Then the runbook expects "Age > 30s: kill switch active"

  @sop_8_3 @blocker
  Scenario: sop.8.3 Stalled-feed drill
    When the market-data feed stalls
    Then the runbook expects "Reduce-only past 5s, kill switch past 30s"
