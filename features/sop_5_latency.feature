@section_sop_5
Feature: sop.5 High Latency
  Incident Response SOP, §5 High Latency: p95 latency > 500 ms is an incident.

  @sop_5_1 @blocker
  Scenario: sop.5.1 Exchange latency p95 at most 500 ms
    When public and signed exchange requests are timed and the bot's latency metric is read
    Then the runbook expects "p95 latency at most 500ms"
