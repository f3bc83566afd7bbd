"""VALR request signing: hex(HMAC-SHA512(secret, timestamp + VERB + path-with-query + body + subaccount id))."""

from __future__ import annotations

import hashlib
import hmac
import time

from ops_checks.core.secret import Secret


def sign_request(
    secret: str, timestamp: str | int, verb: str, path: str, body: str = "", subaccount_id: str = ""
) -> str:
    """Return VALR's X-VALR-SIGNATURE for one request. ``path`` is the path with its query string, not a URL."""
    message = f"{timestamp}{verb.upper()}{path}{body}{subaccount_id}"
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha512).hexdigest()


def now_ms() -> int:
    """Wall-clock Unix time in milliseconds (what VALR expects in X-VALR-TIMESTAMP)."""
    return time.time_ns() // 1_000_000


def signed_headers(
    api_key: Secret,
    api_secret: Secret,
    verb: str,
    path: str,
    body: str = "",
    timestamp_ms: int | None = None,
    subaccount_id: str = "",
) -> dict[str, str]:
    """Headers for a signed VALR request. ONE timestamp is both signed and sent (runbook §8.3 used two)."""
    timestamp = str(now_ms() if timestamp_ms is None else timestamp_ms)
    headers = {
        "X-VALR-API-KEY": api_key.reveal(),
        "X-VALR-SIGNATURE": sign_request(api_secret.reveal(), timestamp, verb, path, body, subaccount_id),
        "X-VALR-TIMESTAMP": timestamp,
    }
    if subaccount_id:
        headers["X-VALR-SUB-ACCOUNT-ID"] = subaccount_id
    return headers
