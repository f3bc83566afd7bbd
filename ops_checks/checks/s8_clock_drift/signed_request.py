"""Runbook §8.6.5 / §8.3 Step 4: a signed ``GET /v1/account/balances`` is accepted.

Signed and sent with ONE timestamp (the runbook's script signs with one and sends another, DESIGN.md §8.3).
A rejection is reported as what it is — invalid signature, timestamp outside VALR's window, or another
refusal — with VALR's own code and message.
"""

from __future__ import annotations

from ops_checks.access.config import Target
from ops_checks.access.valr.client import ValrError
from ops_checks.checks import causes
from ops_checks.checks.bot_sources import valr_cause
from ops_checks.checks.s1_preconditions.exchange import client
from ops_checks.core.http import Recorder
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed

PATH = "/v1/account/balances"
CODE_INVALID_SIGNATURE = -11252


def keys_unset(t: Target, expected: str) -> CheckResult | None:
    """Not verified when the VALR key or secret is not set (the same cause as §1.2's and §2.1's for that setting),
    else None."""
    cause = causes.valr_credentials_unset(t)
    if cause is None:
        return None
    return not_verified(f"{cause.detail}: no signed request can be sent", cause=cause, expected=expected)


def signed_cause(t: Target, exc: ValrError) -> Cause:
    """A refused signed request: a timestamp outside VALR's window is the clock's problem (runbook §8.4), anything
    else the key's or VALR's."""
    if rejection_kind(exc).startswith("timestamp rejected"):
        return Cause(
            "clock_drift",
            "exchange clock offset",
            f"VALR rejects the request's timestamp: {exc}",
            "sync the host clock (runbook §8.4.1: sudo systemctl restart systemd-timesyncd; timedatectl status), "
            "then re-run",
        )
    return valr_cause(t, exc, f"GET {PATH}")


def rejection_kind(exc: ValrError) -> str:
    """What a refused signed request means for the operator."""
    message = (exc.vmessage or "").lower()
    if exc.code == CODE_INVALID_SIGNATURE or "signature" in message:
        return "invalid signature (wrong VALR_API_SECRET, or not what VALR signs)"
    if "timestamp" in message or "expired" in message or "time window" in message:
        return "timestamp rejected (clock drift beyond VALR's window: runbook §8.4)"
    if exc.http_status in (401, 403):
        return "authentication refused"
    if exc.http_status is None:
        return "no answer"
    return "request refused"


def signed_request_accepted(t: Target) -> CheckResult:
    """8.6.5: the signed request answers 200 with the account's balances."""
    expected = "200 OK"
    if (unset := keys_unset(t, expected)) is not None:
        return unset
    rec = Recorder(t.redactor)
    try:
        balances = client(t, rec).balances()
    except ValrError as exc:
        ev = Evidence("HTTP", rec.render())
        code = f" code {exc.code}" if exc.code is not None else ""
        observed = f"HTTP {exc.http_status}{code}" if exc.http_status else "no answer"
        return failed(observed, expected, f"{rejection_kind(exc)}: {exc}", ev, cause=signed_cause(t, exc))
    observed = f"HTTP 200, {len(balances)} balances"
    return passed(observed, expected, f"signed GET {PATH} accepted: {observed}", Evidence("HTTP", rec.render()))
