@section_sop_weekly @cadence_weekly
Feature: sop.weekly Prevention Checklist: Weekly
  Incident Response SOP, Prevention Checklist, Weekly. Selected by opscheck preflight --cadence weekly.

  @sop_weekly_1 @warning @cadence_weekly
  Scenario: sop.weekly.1 Rotate logs
    When the bot's log files are dated
    Then the runbook expects "Logs rotated this week"
