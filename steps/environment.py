"""Steps for runbook §2 (environment variables and secrets): §2.1 secrets, §2.2 gates, §2.3 limits, §2.4 rotation."""

from __future__ import annotations

from pytest_bdd import given, parsers, when

from ops_checks.access.config import Target
from ops_checks.checks.s2_environment import gates, rotation, secrets_check
from ops_checks.core.result import CheckResult
from ops_checks.pytest_plugin.steps.common import require


# ---------------------------------------------------------------- preconditions
@given("VALR accepts requests signed with VALR_API_SECRET")
def valr_signature_accepted(target: Target) -> None:
    require(target, secrets_check.valr_signature_not_accepted(target))


@given("VALR recognises VALR_API_KEY")
def valr_key_recognised(target: Target) -> None:
    require(target, secrets_check.valr_key_not_recognised(target))


@given(parsers.parse('the rotation of "{name}" is not more than twice overdue'))
def rotation_not_far_overdue(target: Target, name: str) -> None:
    require(target, rotation.far_overdue(target, name))


# ---------------------------------------------------------------- §2.1
@when("the current API key is described by VALR", target_fixture="result")
def valr_key(target: Target) -> CheckResult:
    return secrets_check.valr_api_key(target)


@when("the current API key's IP allow-list is read from VALR", target_fixture="result")
def valr_key_ip(target: Target) -> CheckResult:
    return secrets_check.valr_key_ip_restricted(target)


@when("a read signed with VALR_API_SECRET is sent to VALR", target_fixture="result")
def valr_secret(target: Target) -> CheckResult:
    return secrets_check.valr_api_secret(target)


@when("a body signed with SOVEREIGN_SECRET is sent to the bot's webhook", target_fixture="result")
def sovereign(target: Target) -> CheckResult:
    return secrets_check.sovereign_secret(target)


@when("test signals signed with WEBHOOK_SECRET and with a wrong secret are sent to the bot", target_fixture="result")
def webhook(target: Target) -> CheckResult:
    return secrets_check.webhook_secret(target)


@when("the database is queried as the superuser with POSTGRES_PASSWORD", target_fixture="result")
def postgres_password(target: Target) -> CheckResult:
    return secrets_check.postgres_password(target)


@when("the database is queried as the application role with DB_PASSWORD", target_fixture="result")
def db_password(target: Target) -> CheckResult:
    return secrets_check.db_password(target)


@when("GUARDIAN_RESET_CODE is read from the environment", target_fixture="result")
def reset_code(target: Target) -> CheckResult:
    return secrets_check.guardian_reset_code(target)


@when("a test message is sent to DISCORD_WEBHOOK_URL", target_fixture="result")
def discord(target: Target, run_id: str) -> CheckResult:
    return secrets_check.discord_webhook(target, run_id)


@when("OPENROUTER_API_KEY is read from the environment", target_fixture="result")
def openrouter(target: Target) -> CheckResult:
    return secrets_check.openrouter_api_key(target)


# ---------------------------------------------------------------- §2.2, §2.3
@when("EXECUTION_MODE is compared with the mode of this preflight", target_fixture="result")
def execution_mode(target: Target) -> CheckResult:
    return gates.execution_mode(target)


@when("LIVE_TRADING_CONFIRMED is compared with the mode of this preflight", target_fixture="result")
def live_confirmed(target: Target) -> CheckResult:
    return gates.live_trading_confirmed(target)


@when("KILL_SWITCH_ENABLED is read from the environment", target_fixture="result")
def kill_switch_enabled(target: Target) -> CheckResult:
    return gates.kill_switch_enabled(target)


@when("BUDGETGUARD_STRICT_MODE is read from the environment", target_fixture="result")
def budgetguard(target: Target) -> CheckResult:
    return gates.budgetguard_strict(target)


@when(
    "MAX_ORDER_ZAR, MAX_RISK_ZAR and ZAR_FLOOR are compared with each other and the starting equity",
    target_fixture="result",
)
def limits(target: Target) -> CheckResult:
    return gates.limits_consistent(target)


# ---------------------------------------------------------------- §2.4
@when(parsers.parse('the last rotation of "{name}" is compared with its period'), target_fixture="result")
def rotation_period(target: Target, name: str) -> CheckResult:
    return rotation.within_period(target, name)


@when(parsers.parse('the last rotation of "{name}" is compared with twice its period'), target_fixture="result")
def rotation_twice(target: Target, name: str) -> CheckResult:
    return rotation.not_far_overdue(target, name)
