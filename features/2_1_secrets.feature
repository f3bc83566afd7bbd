@section_2_1
Feature: 2.1 Required Secrets Checklist
  Live Trading Runbook, §2 Environment Variable Verification, §2.1 Required Secrets Checklist.
  Each secret is proven by the service that consumes it (a signed read, an accepted signal, a connection),
  never displayed: not even its first characters.

  @rb_2_1_1 @blocker
  Scenario: 2.1.1 VALR_API_KEY authenticates, no Withdraw permission
    Given VALR accepts requests signed with VALR_API_SECRET
    When the current API key is described by VALR
    Then the runbook expects "First 8 chars visible"

  @rb_2_1_1_1 @warning
  Scenario: 2.1.1.1 VALR_API_KEY is IP-restricted
    Given VALR accepts requests signed with VALR_API_SECRET
    And VALR recognises VALR_API_KEY
    When the current API key's IP allow-list is read from VALR
    Then the runbook expects "First 8 chars visible"

  @rb_2_1_2 @blocker
  Scenario: 2.1.2 VALR_API_SECRET signs a read
    Given VALR recognises VALR_API_KEY
    When a read signed with VALR_API_SECRET is sent to VALR
    Then the runbook expects "Returns SET"

  @rb_2_1_3 @blocker @mutating
  Scenario: 2.1.3 SOVEREIGN_SECRET signs the bot's webhook
    When a body signed with SOVEREIGN_SECRET is sent to the bot's webhook
    Then the runbook expects "Returns VALID"

  @rb_2_1_4 @blocker @mutating
  Scenario: 2.1.4 WEBHOOK_SECRET signs an accepted signal
    When test signals signed with WEBHOOK_SECRET and with a wrong secret are sent to the bot
    Then the runbook expects "Returns SET"

  @rb_2_1_5 @blocker
  Scenario: 2.1.5 POSTGRES_PASSWORD connects
    When the database is queried as the superuser with POSTGRES_PASSWORD
    Then the runbook expects "Query succeeds"

  @rb_2_1_6 @blocker
  Scenario: 2.1.6 DB_PASSWORD connects
    When the database is queried as the application role with DB_PASSWORD
    Then the runbook expects "Query succeeds"

  @rb_2_1_7 @blocker
  Scenario: 2.1.7 GUARDIAN_RESET_CODE set
    When GUARDIAN_RESET_CODE is read from the environment
    Then the runbook expects "Returns SET"

  @rb_2_1_8 @blocker @mutating
  Scenario: 2.1.8 DISCORD_WEBHOOK_URL accepts a message
    When a test message is sent to DISCORD_WEBHOOK_URL
    Then the runbook expects "Message received"

  @rb_2_1_9 @blocker
  Scenario: 2.1.9 OPENROUTER_API_KEY set
    When OPENROUTER_API_KEY is read from the environment
    Then the runbook expects "Returns SET"
