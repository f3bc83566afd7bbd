@section_7_4
Feature: 7.4 Compliance Report Generation
  Live Trading Runbook, §7 Audit Extraction Steps, §7.4 Compliance Report Generation.
  The monthly report (executive summary, kill switch events, policy overrides, daily P&L with its chart) as a
  readable report and CSVs, written into a temporary directory that is removed after the run.

  @rb_7_4_1 @warning @mutating
  Scenario: 7.4.1 Monthly compliance report
    Given the database is reachable
    When the compliance report for the current month is generated into a temporary directory
    Then the runbook expects "Compliance report generated"
