@section_sop_3
Feature: sop.3 Key Compromise
  Incident Response SOP, §3 Key Compromise: switch to the standby key within 5 minutes — so one must exist.

  @sop_3_1 @blocker
  Scenario: sop.3.1 Standby key configured
    When the standby keys are inspected
    Then the runbook expects "Standby key ready"
