@section_sop_1
Feature: sop.1 Authentication/Authorization Failures
  Incident Response SOP, §1 Authentication/Authorization Failures: token expiry, the backoff strategy and the
  escalation checks (clock drift > 30 s fails JWTs, key permissions 400/600). The Coinbase CDP items are not
  applicable when the operator declares VALR only (OPSCHECK_SCOPE=exchanges=valr), not verified when CDP is
  neither configured nor declared out of scope.

  @sop_1_1 @blocker
  Scenario: sop.1.1 CDP key file mode 400/600, owned by the running user
    When the Coinbase CDP private key file is inspected
    Then the runbook expects "Key permissions 400/600"

  @sop_1_2 @blocker
  Scenario: sop.1.2 CDP JWT verifies and is inside its validity window
    When a CDP JWT is built the way Coinbase's SDK builds it and decoded
    Then the runbook expects "Token not expired"

  @sop_1_3 @blocker
  Scenario: sop.1.3 Clock drift well under the 30 s JWT limit
    When the exchange clock offset is measured for JWT validity
    Then the runbook expects "Clock drift well under 30s"

  @sop_1_4 @blocker
  Scenario: sop.1.4 VALR auth: no 401/403 streak (SOP backoff, alert after 3)
    When a signed VALR request is retried with the SOP backoff policy
    Then the runbook expects "No persistent 401/403"
