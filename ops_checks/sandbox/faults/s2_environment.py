"""Faults for runbook §2 (environment and secrets): one or more per item, each failing exactly that item of §2."""

from __future__ import annotations

from collections.abc import Callable

from ops_checks.catalogue.rotation_periods import ROTATION_ROWS
from ops_checks.sandbox.environment import Sandbox
from ops_checks.sandbox.faults import Fault, chain, knob, set_env

_STALE = "stale-0123456789abcdefghijklmnopqrstuvwxyzABCDEF"  # a plausible, wrong value (>= 32 characters)


def _rotated_days_ago(name: str, days: int) -> Callable[[Sandbox], None]:
    def run(sb: Sandbox) -> None:
        sb.admin("DELETE FROM opscheck.secret_rotations WHERE secret_name = %s", (name,))
        sb.admin(
            "INSERT INTO opscheck.secret_rotations (secret_name, rotated_at, rotated_by) "
            "VALUES (%s, now() - make_interval(days => %s), %s)",
            (name, days, "fault"),
        )

    return run


def _rotation_faults() -> tuple[Fault, ...]:
    faults: list[Fault] = []
    for name, (row, period) in ROTATION_ROWS.items():
        slug = name.lower()
        faults.append(
            Fault(
                f"{slug}_rotation_overdue",
                row,
                f"{name} last rotated {period * 3 // 2} days ago (period {period})",
                _rotated_days_ago(name, period * 3 // 2),
                verdict="GO",
            )
        )
        faults.append(
            Fault(
                f"{slug}_rotation_far_overdue",
                f"{row}.1",
                f"{name} last rotated {period * 5 // 2} days ago: more than twice its {period}-day period",
                _rotated_days_ago(name, period * 5 // 2),
            )
        )
    return tuple(faults)


def _never_rotated(sb: Sandbox) -> None:
    sb.admin("DELETE FROM opscheck.secret_rotations WHERE secret_name = %s", ("GUARDIAN_RESET_CODE",))


FAULTS: tuple[Fault, ...] = (
    Fault("valr_key_revoked", "2.1.1", "the VALR API key was revoked on the exchange", knob("valr", key_revoked=True)),
    Fault(
        "valr_key_can_withdraw",
        "2.1.1",
        "the VALR API key carries the Withdraw permission",
        knob("valr", permissions=["View access", "Trade", "Withdraw"]),
    ),
    Fault(
        "valr_key_unrestricted",
        "2.1.1.1",
        "the VALR API key has no IP allow-list",
        knob("valr", allowed_ip_cidr=None),
        verdict="GO",
    ),
    Fault(
        "valr_secret_wrong",
        "2.1.2",
        "VALR_API_SECRET belongs to another key: VALR answers -11252 invalid signature",
        set_env("VALR_API_SECRET", "ab" * 32),
    ),
    Fault(
        "credentials_echoed",
        "2.1.2",
        "VALR_API_SECRET belongs to another key, and VALR and the bot run in a debug mode that echoes back the first "
        "12 characters and the reverse of every credential they are sent (in headers and error messages)",
        chain(set_env("VALR_API_SECRET", "ab" * 32), knob("valr", echo_key=True), knob("bot", echo_credentials=True)),
    ),
    Fault(
        "sovereign_secret_short", "2.1.3", "SOVEREIGN_SECRET has 20 characters", set_env("SOVEREIGN_SECRET", "s" * 20)
    ),
    Fault(
        "sovereign_secret_rejected",
        "2.1.3",
        "SOVEREIGN_SECRET is not the bot's: the webhook answers 401 SEC-003",
        set_env("SOVEREIGN_SECRET", _STALE),
    ),
    Fault("webhook_secret_missing", "2.1.4", "WEBHOOK_SECRET is not set", set_env("WEBHOOK_SECRET", None)),
    Fault(
        "webhook_signature_unchecked",
        "2.1.4",
        "the bot accepts signals whatever their signature",
        knob("bot", webhook_accept_any_signature=True),
    ),
    Fault(
        "postgres_password_wrong",
        "2.1.5",
        "POSTGRES_PASSWORD is not the superuser's password",
        set_env("POSTGRES_PASSWORD", _STALE),
    ),
    Fault(
        "db_password_stale",
        "2.1.6",
        "DB_PASSWORD is an old password of the application role",
        set_env("DB_PASSWORD", _STALE),
    ),
    Fault("guardian_reset_code_missing", "2.1.7", "GUARDIAN_RESET_CODE is empty", set_env("GUARDIAN_RESET_CODE", "")),
    Fault(
        "discord_webhook_unauthorized",
        "2.1.8",
        "Discord refuses the webhook (401)",
        knob("hooks", discord_status=401),
    ),
    Fault(
        "discord_webhook_unreachable",
        "2.1.8",
        "Discord refuses the connection: the error names the webhook URL, token included, without its query",
        knob("hooks", discord_unreachable=True),
    ),
    Fault(
        "openrouter_key_placeholder",
        "2.1.9",
        "OPENROUTER_API_KEY is still the template's placeholder",
        set_env("OPENROUTER_API_KEY", "your_openrouter_key_here"),
    ),
    Fault(
        "execution_mode_live_in_dry_run",
        "2.2.1",
        "EXECUTION_MODE=LIVE in a DRY_RUN preflight",
        set_env("EXECUTION_MODE", "LIVE"),
    ),
    Fault(
        "live_trading_confirmed_in_dry_run",
        "2.2.2",
        "LIVE_TRADING_CONFIRMED=TRUE in a DRY_RUN preflight",
        set_env("LIVE_TRADING_CONFIRMED", "TRUE"),
    ),
    Fault("kill_switch_disabled", "2.2.3", "KILL_SWITCH_ENABLED=false", set_env("KILL_SWITCH_ENABLED", "false")),
    Fault(
        "budgetguard_lenient",
        "2.2.4",
        "BUDGETGUARD_STRICT_MODE=false",
        set_env("BUDGETGUARD_STRICT_MODE", "false"),
        verdict="GO",
    ),
    Fault(
        "zar_floor_above_equity",
        "2.3.1",
        "ZAR_FLOOR R150,000 above the R100,000 starting equity",
        set_env("ZAR_FLOOR", "150000"),
    ),
    Fault(
        "max_order_above_max_risk",
        "2.3.1",
        "MAX_ORDER_ZAR R5,000 above MAX_RISK_ZAR R2,500",
        set_env("MAX_RISK_ZAR", "2500"),
    ),
    Fault(
        "guardian_reset_code_never_rotated",
        "2.4.4.1",
        "no rotation of GUARDIAN_RESET_CODE was ever recorded",
        _never_rotated,
    ),
    *_rotation_faults(),
)
