"""Live Trading Runbook §2 Environment Variable Verification: items 2.1.1–2.1.9, 2.2.1–2.2.4, 2.3.1, 2.4.1–2.4.5.

Beyond the runbook's numbered rows (sub-items keep their row's number, as DESIGN.md's sop.4.2):
- 2.1.1.1 (warning): the VALR key is IP-restricted. A separate warning item rather than evidence on 2.1.1, so
  an unrestricted key shows as a visible warning in the verdict without blocking; 2.1.1 (blocker) owns Withdraw.
- 2.3.1 (blocker): §2.3's verify_env.sh requires MAX_ORDER_ZAR, MAX_RISK_ZAR and ZAR_FLOOR; this item proves
  they parse as positive decimals and agree with each other (floor below starting equity, max order ≤ max
  risk). §2.2's rows stay the gate flags with their exact values.
- 2.4.N.1 (blocker): the secret of row 2.4.N is not more than twice overdue. Severities are static, so the
  runbook's escalation is two items: 2.4.N (warning) fails while a rotation is overdue up to twice its period;
  beyond that 2.4.N.1 fails and blocks, and 2.4.N is reported "not verified" (skipped, pointing to 2.4.N.1),
  so each state fails exactly one item.
"""

from __future__ import annotations

from functools import partial

from ops_checks.catalogue.model import CONFIGURATION, DATABASE, WARNING, Given, Item, table
from ops_checks.catalogue.rotation_periods import ROTATION_ROWS

S21 = "2.1 Required Secrets Checklist"
S22 = "2.2 LIVE Trading Gate Variables"
S23 = "2.3 Verification Script"
S24 = "2.4 Secret Rotation Reminder"

_s21 = partial(Item, section=S21, category=CONFIGURATION)
_s22 = partial(Item, section=S22, category=CONFIGURATION)
_s23 = partial(Item, section=S23, category=CONFIGURATION)
_s24 = partial(Item, section=S24, category=CONFIGURATION)
_SIGNATURE_ACCEPTED = Given(
    "ops_checks.checks.s2_environment.secrets_check:valr_signature_not_accepted",
    text="VALR accepts requests signed with VALR_API_SECRET",
)
_KEY_RECOGNISED = Given(
    "ops_checks.checks.s2_environment.secrets_check:valr_key_not_recognised", text="VALR recognises VALR_API_KEY"
)
_ROTATIONS = table("secret_rotations")


def _not_far_overdue(name: str) -> Given:
    return Given(
        "ops_checks.checks.s2_environment.rotation:far_overdue",
        (name,),
        text=f'the rotation of "{name}" is not more than twice overdue',
    )


ITEMS: tuple[Item, ...] = (
    _s21(
        "2.1.1",
        "VALR_API_KEY authenticates, no Withdraw permission",
        check="ops_checks.checks.s2_environment.secrets_check:valr_api_key",
        preconditions=(_SIGNATURE_ACCEPTED,),
        when="the current API key is described by VALR",
    ),
    _s21(
        "2.1.1.1",
        "VALR_API_KEY is IP-restricted",
        severity=WARNING,
        check="ops_checks.checks.s2_environment.secrets_check:valr_key_ip_restricted",
        preconditions=(_SIGNATURE_ACCEPTED, _KEY_RECOGNISED),
        when="the current API key's IP allow-list is read from VALR",
    ),
    _s21(
        "2.1.2",
        "VALR_API_SECRET signs a read",
        check="ops_checks.checks.s2_environment.secrets_check:valr_api_secret",
        preconditions=(_KEY_RECOGNISED,),
        when="a read signed with VALR_API_SECRET is sent to VALR",
    ),
    _s21(
        "2.1.3",
        "SOVEREIGN_SECRET signs the bot's webhook",
        check="ops_checks.checks.s2_environment.secrets_check:sovereign_secret",
        mutating=True,
        when="a body signed with SOVEREIGN_SECRET is sent to the bot's webhook",
    ),
    _s21(
        "2.1.4",
        "WEBHOOK_SECRET signs an accepted signal",
        check="ops_checks.checks.s2_environment.secrets_check:webhook_secret",
        mutating=True,
        when="test signals signed with WEBHOOK_SECRET and with a wrong secret are sent to the bot",
    ),
    _s21(
        "2.1.5",
        "POSTGRES_PASSWORD connects",
        check="ops_checks.checks.s2_environment.secrets_check:postgres_password",
        when="the database is queried as the superuser with POSTGRES_PASSWORD",
    ),
    _s21(
        "2.1.6",
        "DB_PASSWORD connects",
        check="ops_checks.checks.s2_environment.secrets_check:db_password",
        when="the database is queried as the application role with DB_PASSWORD",
    ),
    _s21(
        "2.1.7",
        "GUARDIAN_RESET_CODE set",
        check="ops_checks.checks.s2_environment.secrets_check:guardian_reset_code",
        when="GUARDIAN_RESET_CODE is read from the environment",
    ),
    _s21(
        "2.1.8",
        "DISCORD_WEBHOOK_URL accepts a message",
        check="ops_checks.checks.s2_environment.secrets_check:discord_webhook",
        check_needs=("run_id",),
        mutating=True,
        when="a test message is sent to DISCORD_WEBHOOK_URL",
    ),
    _s21(
        "2.1.9",
        "OPENROUTER_API_KEY set",
        check="ops_checks.checks.s2_environment.secrets_check:openrouter_api_key",
        when="OPENROUTER_API_KEY is read from the environment",
    ),
    _s22(
        "2.2.1",
        "EXECUTION_MODE gate",
        check="ops_checks.checks.s2_environment.gates:execution_mode",
        when="EXECUTION_MODE is compared with the mode of this preflight",
    ),
    _s22(
        "2.2.2",
        "LIVE_TRADING_CONFIRMED gate",
        check="ops_checks.checks.s2_environment.gates:live_trading_confirmed",
        when="LIVE_TRADING_CONFIRMED is compared with the mode of this preflight",
    ),
    _s22(
        "2.2.3",
        "KILL_SWITCH_ENABLED true",
        check="ops_checks.checks.s2_environment.gates:kill_switch_enabled",
        when="KILL_SWITCH_ENABLED is read from the environment",
    ),
    _s22(
        "2.2.4",
        "BUDGETGUARD_STRICT_MODE true",
        severity=WARNING,
        check="ops_checks.checks.s2_environment.gates:budgetguard_strict",
        when="BUDGETGUARD_STRICT_MODE is read from the environment",
    ),
    _s23(
        "2.3.1",
        "Trading limits parse and are consistent",
        check="ops_checks.checks.s2_environment.gates:limits_consistent",
        preconditions=(DATABASE,),
        when="MAX_ORDER_ZAR, MAX_RISK_ZAR and ZAR_FLOOR are compared with each other and the starting equity",
    ),
    *(
        item
        for name, (row, days) in ROTATION_ROWS.items()
        for item in (
            _s24(
                row,
                f"{name} rotated within {days} days",
                severity=WARNING,
                check="ops_checks.checks.s2_environment.rotation:within_period",
                check_args=(name,),
                preconditions=(_ROTATIONS, _not_far_overdue(name)),
                when=f'the last rotation of "{name}" is compared with its period',
            ),
            _s24(
                f"{row}.1",
                f"{name} not more than twice overdue ({2 * days} days)",
                check="ops_checks.checks.s2_environment.rotation:not_far_overdue",
                check_args=(name,),
                preconditions=(_ROTATIONS,),
                when=f'the last rotation of "{name}" is compared with twice its period',
            ),
        )
    ),
)
