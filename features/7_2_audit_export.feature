@section_7_2
Feature: 7.2 Full Audit Export
  Live Trading Runbook, §7 Audit Extraction Steps, §7.2 Full Audit Export.
  Every §7.1 table streamed with COPY … TO STDOUT WITH CSV HEADER (no TTY, LF line ends), a manifest and checksums
  that sha256sum -c accepts, written into a temporary directory that is removed after the run.

  @rb_7_2_1 @blocker @mutating
  Scenario: 7.2.1 Audit tables exported
    Given the database is reachable
    When the audit tables of the last day are exported into a temporary directory
    Then the runbook expects "Audit export complete"

  @rb_7_2_2 @blocker @mutating
  Scenario: 7.2.2 Export verified against checksums and database
    Given the database is reachable
    And the suite's schema is installed
    And an audit export of the last day in a temporary directory
    When the export is verified against its checksums, its manifest and the database
    Then the runbook expects "Checksums for integrity"
