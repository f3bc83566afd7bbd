@section_sop_weekly @cadence_weekly
Feature: sop.weekly Prevention Checklist: Weekly
  Incident Response SOP, Prevention Checklist, Weekly. Selected by opscheck preflight --cadence weekly.

  @sop_weekly_1 @warning @cadence_weekly
  Scenario: sop.weekly.1 Logs rotated within a week
    When the bot's log files are dated
    Then the runbook expects "Logs rotated this week"

  @sop_weekly_2 @warning @cadence_weekly
  Scenario: sop.weekly.2 Runbooks updated or reviewed within a week
    When the runbooks' revisions and their recorded reviews are read
    Then the runbook expects "Runbooks updated or reviewed this week"

  @sop_weekly_3 @warning @cadence_weekly
  Scenario: sop.weekly.3 Incidents past 48 h have a root cause and a review
    When every incident past its 48-hour review meeting is looked up
    Then the runbook expects "Every incident reviewed, root cause documented"

  @sop_weekly_4 @blocker @cadence_weekly
  Scenario: sop.weekly.4 Backup restore drill: row counts and checksums match
    Given the database is reachable
    When the audit tables are backed up and restored into a disposable database
    Then the runbook expects "Backups restore: row counts and checksums match"
