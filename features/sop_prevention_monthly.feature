@section_sop_monthly @cadence_monthly
Feature: sop.monthly Prevention Checklist: Monthly
  Incident Response SOP, Prevention Checklist, Monthly. Selected by opscheck preflight --cadence monthly.

  @sop_monthly_1 @warning @cadence_monthly
  Scenario: sop.monthly.1 Key rotation
    When the exchange key's last rotation is read
    Then the runbook expects "Keys rotated this month"
