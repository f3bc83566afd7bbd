@section_2_4
Feature: 2.4 Secret Rotation Reminder
  Live Trading Runbook, §2 Environment Variable Verification, §2.4 Secret Rotation Reminder.
  Rotation ages come from the secret_rotations record (name, time, operator; never the value). An overdue
  secret is a warning (2.4.N); more than twice its period, or never recorded, blocks (2.4.N.1).

  @rb_2_4_1 @warning
  Scenario: 2.4.1 VALR_API_KEY rotated within 90 days
    Given the table "secret_rotations" is readable
    And the rotation of "VALR_API_KEY" is not more than twice overdue
    When the last rotation of "VALR_API_KEY" is compared with its period
    Then the runbook expects "90 days"

  @rb_2_4_1_1 @blocker
  Scenario: 2.4.1.1 VALR_API_KEY not more than twice overdue (180 days)
    Given the table "secret_rotations" is readable
    When the last rotation of "VALR_API_KEY" is compared with twice its period
    Then the runbook expects "90 days"

  @rb_2_4_2 @warning
  Scenario: 2.4.2 VALR_API_SECRET rotated within 90 days
    Given the table "secret_rotations" is readable
    And the rotation of "VALR_API_SECRET" is not more than twice overdue
    When the last rotation of "VALR_API_SECRET" is compared with its period
    Then the runbook expects "90 days"

  @rb_2_4_2_1 @blocker
  Scenario: 2.4.2.1 VALR_API_SECRET not more than twice overdue (180 days)
    Given the table "secret_rotations" is readable
    When the last rotation of "VALR_API_SECRET" is compared with twice its period
    Then the runbook expects "90 days"

  @rb_2_4_3 @warning
  Scenario: 2.4.3 SOVEREIGN_SECRET rotated within 180 days
    Given the table "secret_rotations" is readable
    And the rotation of "SOVEREIGN_SECRET" is not more than twice overdue
    When the last rotation of "SOVEREIGN_SECRET" is compared with its period
    Then the runbook expects "180 days"

  @rb_2_4_3_1 @blocker
  Scenario: 2.4.3.1 SOVEREIGN_SECRET not more than twice overdue (360 days)
    Given the table "secret_rotations" is readable
    When the last rotation of "SOVEREIGN_SECRET" is compared with twice its period
    Then the runbook expects "180 days"

  @rb_2_4_4 @warning
  Scenario: 2.4.4 GUARDIAN_RESET_CODE rotated within 90 days
    Given the table "secret_rotations" is readable
    And the rotation of "GUARDIAN_RESET_CODE" is not more than twice overdue
    When the last rotation of "GUARDIAN_RESET_CODE" is compared with its period
    Then the runbook expects "90 days"

  @rb_2_4_4_1 @blocker
  Scenario: 2.4.4.1 GUARDIAN_RESET_CODE not more than twice overdue (180 days)
    Given the table "secret_rotations" is readable
    When the last rotation of "GUARDIAN_RESET_CODE" is compared with twice its period
    Then the runbook expects "90 days"

  @rb_2_4_5 @warning
  Scenario: 2.4.5 OPENROUTER_API_KEY rotated within 90 days
    Given the table "secret_rotations" is readable
    And the rotation of "OPENROUTER_API_KEY" is not more than twice overdue
    When the last rotation of "OPENROUTER_API_KEY" is compared with its period
    Then the runbook expects "90 days"

  @rb_2_4_5_1 @blocker
  Scenario: 2.4.5.1 OPENROUTER_API_KEY not more than twice overdue (180 days)
    Given the table "secret_rotations" is readable
    When the last rotation of "OPENROUTER_API_KEY" is compared with twice its period
    Then the runbook expects "90 days"
