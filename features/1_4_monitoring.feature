@section_1_4
Feature: 1.4 Monitoring & Alerting
  Live Trading Runbook, §1 Preconditions Checklist, §1.4 Monitoring & Alerting.
  Alerts reach Discord, metrics are scraped, dashboards load, and the bot is writing its logs.

  @rb_1_4_1 @blocker @mutating
  Scenario: 1.4.1 Discord webhook configured
    When a test message is posted to the Discord webhook
    Then the runbook expects "Message appears in channel"

  @rb_1_4_2 @blocker
  Scenario: 1.4.2 Prometheus metrics
    When the metrics endpoint is scraped
    Then the runbook expects "Metrics endpoint responds"

  @rb_1_4_3 @blocker
  Scenario: 1.4.3 Grafana dashboards
    When Grafana's health and dashboards are queried
    Then the runbook expects "Dashboards load correctly"

  @rb_1_4_4 @blocker
  Scenario: 1.4.4 Log aggregation
    When the log directory is inspected
    Then the runbook expects "Logs being written"
