"""The sandbox's incident-SOP configuration: a generated Coinbase CDP key (and a standby), a VALR standby key,
and the perpetual pairs the funding check reads (the time-compressed SOP §1 backoff is a sandbox threshold:
``environment.SANDBOX_THRESHOLDS``)."""

from __future__ import annotations

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ops_checks.target.coinbase_jwt import generate_ec_pem

PERPETUAL_PAIR = "BTCUSDTPERP"


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
            {"priority": "P3", "role": "System Administrator", "name": "Sandbox Admin",
             "email": "sysadmin@example.invalid", "slack": "#ops-escalation"},
        ],
    }
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def install(workdir: Path) -> dict[str, str]:
    keys = workdir / "cdp"
    keys.mkdir(parents=True, exist_ok=True)
    keys.chmod(0o700)
    org = uuid.uuid4()
    contacts = workdir / "escalation_contacts.json"
    write_contacts(contacts)
    return {
        "COINBASE_CDP_API_KEY": f"organizations/{org}/apiKeys/{uuid.uuid4()}",
        "COINBASE_CDP_PRIVATE_KEY_PATH": str(_key_file(keys, "cdp_api_key.pem")),
        "COINBASE_CDP_STANDBY_KEY": f"organizations/{org}/apiKeys/{uuid.uuid4()}",
        "COINBASE_CDP_STANDBY_KEY_PATH": str(_key_file(keys, "cdp_standby_key.pem")),
        "VALR_STANDBY_API_KEY": secrets.token_hex(32),
        "VALR_STANDBY_API_SECRET": secrets.token_hex(32),
        "PERPETUAL_PAIRS": PERPETUAL_PAIR,
        "ESCALATION_CONTACTS_FILE": str(contacts),
    }
