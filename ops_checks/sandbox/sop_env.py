"""The sandbox's incident-SOP configuration: a generated Coinbase CDP key (and a standby), a VALR standby key,
the perpetual pairs the funding check reads (so CDP and perpetuals are in scope and checked: the sandbox stays GO
without a scope declaration), and the declared sources of the SOP figures the SOP names none for: the reference
bot's metric names (``bot_sop.py``), as an operator declares the real bot's (``BOT_METRIC_*``). An operator's
``OPSCHECK_SCOPE`` in the environment is passed through (the time-compressed SOP §1 backoff is a sandbox
threshold: ``environment.SANDBOX_THRESHOLDS``)."""

from __future__ import annotations

import json
import os
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ops_checks.access import scope
from ops_checks.access.coinbase_jwt import generate_ec_pem
from ops_checks.core import envfile
from ops_checks.core.envfile import ConfigError
from ops_checks.sandbox.bot_sop import SopMetrics

PERPETUAL_PAIR = "BTCUSDTPERP"


def declared_sources() -> dict[str, str]:
    """The reference bot's metric for each SOP figure (its exposition names: a counter's with ``_total``)."""
    m = SopMetrics.NAMES
    return {
        "BOT_METRIC_WEBSOCKET_DISCONNECTS": m["disconnects"],
        "BOT_METRIC_WEBSOCKET_DOWNTIME": m["downtime"],
        "BOT_METRIC_WEBSOCKET_CONNECTED": m["connected"],
        "BOT_METRIC_MARKET_DATA_AGE": m["age"],
        "BOT_METRIC_REDUCE_ONLY": m["reduce_only"],
        "BOT_METRIC_ALERTS_SENT": m["alerts"] + "_total",
        "BOT_METRIC_EXCHANGE_LATENCY": m["latency"],
    }


def _key_file(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_bytes(generate_ec_pem())
    path.chmod(0o600)
    return path


def write_contacts(path: Path, reviewed_days_ago: float = 5) -> None:
    """The escalation contact list of runbook §5.6 (fictitious numbers), reviewed ``reviewed_days_ago``."""
    reviewed = datetime.now(UTC) - timedelta(days=reviewed_days_ago)
    doc = {
        "reviewed_at": reviewed.isoformat(timespec="seconds"),
        "reviewed_by": "sandbox-seed",
        "contacts": [
            {"priority": "P1", "role": "Primary Operator", "name": "Sandbox Primary", "phone": "+27215550101"},
            {"priority": "P2", "role": "Secondary Operator", "name": "Sandbox Secondary", "phone": "+27215550102"},
            {
                "priority": "P3",
                "role": "System Administrator",
                "name": "Sandbox Admin",
                "email": "sysadmin@example.invalid",
                "slack": "#ops-escalation",
            },
        ],
    }
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def _declared() -> scope.Scope:
    """The operator's OPSCHECK_SCOPE (the CLI refuses a malformed one before the sandbox starts; here it counts as
    nothing declared, and the checks name the problem)."""
    try:
        return scope.from_env(envfile.environ())
    except ConfigError:
        return scope.Scope()


def install(workdir: Path) -> dict[str, str]:
    """The SOP settings: CDP keys and perpetual pairs unless the operator's scope declares them out (then the
    sandbox, like a deployment without them, leaves them unset and the items are not applicable)."""
    keys = workdir / "cdp"
    keys.mkdir(parents=True, exist_ok=True)
    keys.chmod(0o700)
    org = uuid.uuid4()
    contacts = workdir / "escalation_contacts.json"
    write_contacts(contacts)
    declared = _declared()
    env = {
        "VALR_STANDBY_API_KEY": secrets.token_hex(32),
        "VALR_STANDBY_API_SECRET": secrets.token_hex(32),
        "ESCALATION_CONTACTS_FILE": str(contacts),
        **{
            name: metric
            for name, metric in declared_sources().items()
            # a websocket feed declared out of scope: its metrics are not declared either (they would contradict it)
            if not (name.startswith("BOT_METRIC_WEBSOCKET") and declared.in_scope(scope.WEBSOCKET) is False)
        },
    }
    if declared.in_scope(scope.COINBASE) is not False:
        env |= {
            "COINBASE_CDP_API_KEY": f"organizations/{org}/apiKeys/{uuid.uuid4()}",
            "COINBASE_CDP_PRIVATE_KEY_PATH": str(_key_file(keys, "cdp_api_key.pem")),
            "COINBASE_CDP_STANDBY_KEY": f"organizations/{org}/apiKeys/{uuid.uuid4()}",
            "COINBASE_CDP_STANDBY_KEY_PATH": str(_key_file(keys, "cdp_standby_key.pem")),
        }
    if declared.in_scope(scope.PERPETUALS) is not False:
        env["PERPETUAL_PAIRS"] = PERPETUAL_PAIR
    if os.environ.get(scope.ENV):
        env[scope.ENV] = os.environ[scope.ENV]
    return env
