@section_sop_2
Feature: sop.2 WebSocket Disconnections
  Incident Response SOP, §2 WebSocket Disconnections: alert thresholds (> 3/h warning, > 10/h critical,
  > 5 min downtime pages on-call) and the recovery procedure (pause entries, allow exits, resume after
  2 clean minutes), drilled in the sandbox.

  @sop_2_1 @warning
  Scenario: sop.2.1 Disconnects not in the warning band (> 3/h)
    When the bot's websocket disconnects over the last hour are read
    Then the runbook expects "At most 3 disconnects/hour"

  @sop_2_2 @blocker
  Scenario: sop.2.2 Disconnects at most 10/h
    When the bot's websocket disconnects are compared with the critical threshold
    Then the runbook expects "At most 10 disconnects/hour"

  @sop_2_3 @blocker
  Scenario: sop.2.3 Websocket downtime at most 5 min
    When the bot's current websocket downtime is read
    Then the runbook expects "Downtime at most 5 min"

  @sop_2_4 @blocker
  Scenario: sop.2.4 Feed drop: entries blocked, exits allowed, resume after 2 clean min
    When the market-data feed drops and comes back
    Then the runbook expects "Entries paused, exits allowed, resume after 2 clean minutes"
