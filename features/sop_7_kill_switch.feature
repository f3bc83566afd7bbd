@section_sop_7
Feature: sop.7 Kill Switch Activation
  Incident Response SOP, §7 Kill Switch Activation: reduce-only, cancel all open orders, stop order placement.
  Drilled in a disposable sandbox; on live, a read-only look at the exchange's open orders.

  @sop_7_1 @blocker
  Scenario: sop.7.1 Kill switch: zero open orders after cancel-all
    Given the database is reachable
    When the kill switch is activated with orders resting on the exchange
    Then the runbook expects "All open orders cancelled"
