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

from ops_checks.item import WARNING, Item
from ops_checks.rotation_periods import ROTATION_ROWS

S21 = "2.1 Required Secrets Checklist"
S22 = "2.2 LIVE Trading Gate Variables"
S23 = "2.3 Verification Script"
S24 = "2.4 Secret Rotation Reminder"

ITEMS: tuple[Item, ...] = (
    Item("2.1.1", "VALR_API_KEY authenticates, no Withdraw permission", S21),
    Item("2.1.1.1", "VALR_API_KEY is IP-restricted", S21, WARNING),
    Item("2.1.2", "VALR_API_SECRET signs a read", S21),
    Item("2.1.3", "SOVEREIGN_SECRET signs the bot's webhook", S21),
    Item("2.1.4", "WEBHOOK_SECRET signs an accepted signal", S21),
    Item("2.1.5", "POSTGRES_PASSWORD connects", S21),
    Item("2.1.6", "DB_PASSWORD connects", S21),
    Item("2.1.7", "GUARDIAN_RESET_CODE set", S21),
    Item("2.1.8", "DISCORD_WEBHOOK_URL accepts a message", S21),
    Item("2.1.9", "OPENROUTER_API_KEY set", S21),
    Item("2.2.1", "EXECUTION_MODE gate", S22),
    Item("2.2.2", "LIVE_TRADING_CONFIRMED gate", S22),
    Item("2.2.3", "KILL_SWITCH_ENABLED true", S22),
    Item("2.2.4", "BUDGETGUARD_STRICT_MODE true", S22, WARNING),
    Item("2.3.1", "Trading limits parse and are consistent", S23),
    *(
        item
        for name, (row, days) in ROTATION_ROWS.items()
        for item in (
            Item(row, f"{name} rotated within {days} days", S24, WARNING),
            Item(f"{row}.1", f"{name} not more than twice overdue ({2 * days} days)", S24),
        )
    ),
)
