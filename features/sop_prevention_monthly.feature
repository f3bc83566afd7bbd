@section_sop_monthly @cadence_monthly
Feature: sop.monthly Prevention Checklist: Monthly
  Incident Response SOP, Prevention Checklist, Monthly. Selected by opscheck preflight --cadence monthly.

  @sop_monthly_1 @warning @cadence_monthly
  Scenario: sop.monthly.1 Exchange key rotated within 31 days
    When the exchange key's last rotation is read
    Then the runbook expects "Keys rotated this month"

  @sop_monthly_2 @warning @cadence_monthly
  Scenario: sop.monthly.2 Security audit: least privilege (DB role, audit tables, VALR key)
    When the bot's database role, audit-table privileges and exchange key permissions are audited
    Then the runbook expects "Least privilege everywhere"

  @sop_monthly_3 @warning @cadence_monthly
  Scenario: sop.monthly.3 Disaster recovery drill passed within 31 days
    When the last disaster recovery drill is looked up
    Then the runbook expects "DR drill passed this month"

  @sop_monthly_4 @warning @cadence_monthly
  Scenario: sop.monthly.4 Escalation contact list well formed, reviewed within 31 days
    When the escalation contact list is read
    Then the runbook expects "Contact list current"
