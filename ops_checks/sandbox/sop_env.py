"""The sandbox's incident-SOP configuration: a generated Coinbase CDP key (and a standby), a VALR standby key,
the perpetual pairs the funding check reads, and a time-compressed backoff (SOP §1) for the suite's retries."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

from ops_checks.coinbase_jwt import generate_ec_pem

PERPETUAL_PAIR = "BTCUSDTPERP"


def _key_file(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_bytes(generate_ec_pem())
    path.chmod(0o600)
    return path


def install(workdir: Path) -> dict[str, str]:
    keys = workdir / "cdp"
    keys.mkdir(parents=True, exist_ok=True)
    keys.chmod(0o700)
    org = uuid.uuid4()
    return {
        "COINBASE_CDP_API_KEY": f"organizations/{org}/apiKeys/{uuid.uuid4()}",
        "COINBASE_CDP_PRIVATE_KEY_PATH": str(_key_file(keys, "cdp_api_key.pem")),
        "COINBASE_CDP_STANDBY_KEY": f"organizations/{org}/apiKeys/{uuid.uuid4()}",
        "COINBASE_CDP_STANDBY_KEY_PATH": str(_key_file(keys, "cdp_standby_key.pem")),
        "VALR_STANDBY_API_KEY": secrets.token_hex(32),
        "VALR_STANDBY_API_SECRET": secrets.token_hex(32),
        "PERPETUAL_PAIRS": PERPETUAL_PAIR,
        "OPSCHECK_BACKOFF_SCALE": "0.001",
    }
