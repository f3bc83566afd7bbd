@section_sop_6
Feature: sop.6 Funding Rate Spike
  Incident Response SOP, §6 Funding Rate Spike: alert when the 8-hour funding rate is above 0.1 % or below -0.1 %.

  @sop_6_1 @warning
  Scenario: sop.6.1 Funding rate within 0.1 % per 8 h
    When the latest funding rate of each perpetual pair is read
    Then the runbook expects "Funding rate within ±0.1% (8-hour)"
