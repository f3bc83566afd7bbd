@section_5_2
Feature: 5.2 L1: Kill Switch Activation
  Live Trading Runbook, §5 Emergency Shutdown Procedure, §5.2 L1: Kill Switch Activation (Fastest).
  Sandbox: a drill on a disposable sandbox runs the runbook's one-liner verbatim and proves trading halts.
  Live: read-only readiness: the one-liner is valid against the live schema and the role may run it (EXPLAIN),
  and the guardian API refuses callers without the secret.

  @rb_5_2_1 @blocker
  Scenario: 5.2.1 L1 one-liner halts trading
    Given the database is reachable
    When the L1 kill-switch one-liner is exercised
    Then the runbook expects "Policy evaluation: HALT"
