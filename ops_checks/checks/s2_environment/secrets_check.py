"""Runbook §2.1: each required secret is proven to work by the service that consumes it, never displayed.

A reason or an observation names a variable, its length at most, and what the service answered; never the
value or any part of it (the runbook's ``echo ${VALR_API_KEY:0:8}`` is exactly what we do not do).
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from urllib.parse import urlsplit

from ops_checks.checks.s1_preconditions import monitoring
from ops_checks.core.http import Recorder
from ops_checks.core.result import CheckResult, Evidence, failed, passed
from ops_checks.core.secret import Secret
from ops_checks.target.config import Target
from ops_checks.target.db import DbError, connect
from ops_checks.target.signal import send_signal
from ops_checks.target.valr.client import ApiKeyInfo, ValrClient, ValrError

SOVEREIGN_MIN_LENGTH = 32  # app/auth/security.py (the profile's signal_secret_min_length)
CODE_UNAUTHORIZED = -93  # VALR: key unknown, revoked or missing
CODE_INVALID_SIGNATURE = -11252  # VALR: the signature does not match the key's secret
_PLACEHOLDER = re.compile(
    r"^(changeme|change[-_]me|todo|tbd|xxx+|\*+|secret|password|none|null|placeholder|example|dummy|test|"
    r"your[-_].*|<.*>|\$\{.*\})$",
    re.I,
)


# ---------------------------------------------------------------- helpers
def read_only_reason(what: str) -> str:
    """The reason of an item whose proof is a POST, on a read-only target (which is sent GET only)."""
    return f"not verified: proving {what} needs a POST; read-only run (needs --allow-mutations)"


def placeholder_problem(name: str, value: Secret) -> str | None:
    """None when ``value`` looks like a real value; else a reason that never shows it."""
    if not value:
        return f"{name} is not set"
    raw = value.reveal()
    if raw != raw.strip():
        return f"{name} has leading or trailing whitespace"
    if _PLACEHOLDER.match(raw):
        return f"{name} is a placeholder, not a real value"
    return None


def set_and_real(t: Target, name: str, purpose: str) -> CheckResult:
    """2.1.7 / 2.1.9: the variable is set to something that is not a placeholder (nothing else is provable)."""
    value = t.secret(name)
    problem = placeholder_problem(name, value)
    if problem:
        return failed("not usable", "SET", problem)
    return passed(f"SET ({len(value)} characters)", "SET", f"{name} is set ({purpose}); value never displayed")


def _valr(t: Target) -> tuple[ApiKeyInfo | None, ValrError | None, Evidence]:
    """One signed read of the current API key's description: the proof for key and secret alike."""
    rec = Recorder(t.redactor)
    client = ValrClient(
        t.valr_base_url, t.secret("VALR_API_KEY"), t.secret("VALR_API_SECRET"), transport=t.valr_transport, recorder=rec
    )
    try:
        info = client.api_key_info()
    except ValrError as exc:
        return None, exc, Evidence("HTTP", rec.render())
    return info, None, Evidence("HTTP", rec.render())


def _key_unknown(exc: ValrError) -> bool:
    return exc.code == CODE_UNAUTHORIZED and exc.http_status in (401, 403)


def valr_key_not_recognised(t: Target) -> str | None:
    """Precondition of 2.1.2: VALR recognises the key (otherwise the secret cannot be judged)."""
    if not t.secret("VALR_API_KEY"):
        return "VALR_API_KEY is not set (item 2.1.1)"
    if not t.secret("VALR_API_SECRET"):
        return None  # 2.1.2 fails on its own
    _, exc, _ = _valr(t)
    if exc is not None and _key_unknown(exc):
        return f"VALR does not recognise VALR_API_KEY (item 2.1.1; {exc})"
    return None


def valr_signature_not_accepted(t: Target) -> str | None:
    """Precondition of 2.1.1 and 2.1.1.1: requests signed with VALR_API_SECRET are accepted."""
    if not t.secret("VALR_API_SECRET"):
        return "VALR_API_SECRET is not set (item 2.1.2)"
    if not t.secret("VALR_API_KEY"):
        return None  # 2.1.1 fails on its own
    _, exc, _ = _valr(t)
    if exc is not None and exc.code == CODE_INVALID_SIGNATURE:
        return f"VALR rejects the signature made with VALR_API_SECRET (item 2.1.2; {exc})"
    return None


# ---------------------------------------------------------------- 2.1.1, 2.1.1.1, 2.1.2
def valr_api_key(t: Target) -> CheckResult:
    """2.1.1: VALR authenticates the key and its permissions exclude Withdraw (a trading key must not withdraw)."""
    expected = "authenticated, no Withdraw permission"
    if not t.secret("VALR_API_KEY"):
        return failed("not set", expected, "VALR_API_KEY is not set")
    info, exc, ev = _valr(t)
    if exc is not None or info is None:
        return failed("not authenticated", expected, f"VALR refused VALR_API_KEY ({exc})", ev)
    withdraw = [p for p in info.permissions if "withdraw" in p.lower()]
    if withdraw:
        return failed(
            info.permissions,
            expected,
            f"VALR_API_KEY carries the {', '.join(withdraw)} permission: a trading key must not withdraw",
            ev,
        )
    return passed(info.permissions, expected, f"key authenticated ({info.label!r}), permissions {info.permissions}", ev)


def valr_key_ip_restricted(t: Target) -> CheckResult:
    """2.1.1.1 (warning): the key is bound to an IP allow-list (``allowedIpAddressCidr``)."""
    expected = "an IP allow-list"
    info, exc, ev = _valr(t)
    if exc is not None or info is None:
        return failed("unknown", expected, f"cannot read the restrictions of VALR_API_KEY ({exc})", ev)
    if not info.allowed_ip_cidr:
        return failed("unrestricted", expected, "VALR_API_KEY is not IP-restricted: it works from any address", ev)
    return passed(info.allowed_ip_cidr, expected, f"key restricted to {info.allowed_ip_cidr}", ev)


def valr_api_secret(t: Target) -> CheckResult:
    """2.1.2: a read signed with VALR_API_SECRET (HMAC-SHA512) is accepted by VALR."""
    expected = "signed read accepted"
    if not t.secret("VALR_API_SECRET"):
        return failed("not set", expected, "VALR_API_SECRET is not set")
    info, exc, ev = _valr(t)
    if exc is not None:
        if exc.code == CODE_INVALID_SIGNATURE:
            return failed("signature rejected", expected, f"VALR_API_SECRET does not match the key ({exc})", ev)
        return failed("rejected", expected, f"signed read failed ({exc})", ev)
    return passed("HTTP 200", expected, "GET /v1/account/api-keys/current signed and accepted", ev)


# ---------------------------------------------------------------- 2.1.3 SOVEREIGN_SECRET (webhook HMAC)
def sovereign_secret(t: Target) -> CheckResult:
    """2.1.3 (mutating: a POST): SOVEREIGN_SECRET has at least 32 characters and is the key the bot verifies
    webhook signatures with (app/auth/security.py). Proven without a write: a body signed with it that fails the
    bot's validation is answered 422 (signature passed, nothing stored); a bad signature would be 401."""
    p = t.profile
    expected = f">= {p.signal_secret_min_length} characters; the bot verifies its signature"
    var = p.signal_secret_var
    value = t.secret(var)
    if not value:
        return failed("not set", expected, f"{var} is not set")
    if len(value) < p.signal_secret_min_length:
        return failed(
            f"{len(value)} characters", expected,
            f"{var} has {len(value)} characters, needs {p.signal_secret_min_length}",
        )
    if not t.allow_mutations:
        return failed(f"{len(value)} characters", expected, read_only_reason(f"that the bot verifies with {var}"))
    probe = json.dumps({"opscheck_probe": "signature only: invalid body, never stored"}).encode()
    reply = send_signal(t, secret=value, body=probe)
    ev = reply.evidence
    if reply.error is not None:
        return failed("no answer", expected, f"{p.signal_path}: {reply.error}", *ev)
    if reply.status_code == 401:
        return failed(
            reply.describe(), expected,
            f"the bot refused the signature made with {var} ({reply.describe()}): it is not the bot's {var}", *ev,
        )
    if reply.status_code in (400, 422):
        return passed(
            f"{len(value)} characters; signature accepted ({reply.describe()} on the invalid probe body)",
            expected, f"the bot verifies signatures with this {var}", *ev,
        )
    return failed(
        reply.describe(), expected,
        f"the bot answered {reply.describe()} to a signed invalid body (expected 422 after the signature check)", *ev,
    )


# ---------------------------------------------------------------- 2.1.4 WEBHOOK_SECRET
def webhook_secret(t: Target) -> CheckResult:
    """2.1.4 (mutating): a test signal signed with WEBHOOK_SECRET (the runbook's "TradingView auth") is accepted,
    and one signed with a wrong secret is refused. The real bot verifies with SOVEREIGN_SECRET only; its
    docker-compose.prod.yml sets SOVEREIGN_SECRET=${WEBHOOK_SECRET}, so on such a deployment both sign."""
    p = t.profile
    expected = "signed signal accepted, wrong signature refused"
    var = p.runbook_signal_secret_var
    value = t.secret(var)
    if not value:
        return failed("not set", expected, f"{var} is not set")
    if not t.allow_mutations:
        return failed("set", expected, read_only_reason(f"that a signal signed with {var} is accepted"))
    wrong = Secret(secrets.token_urlsafe(32))
    t.redactor.register(wrong)
    forged = send_signal(t, secret=wrong)
    reply = send_signal(t, secret=value)
    ev = [*forged.evidence, *reply.evidence]
    if reply.error is not None:
        return failed("no answer", expected, f"signal webhook: {reply.error}", *ev)
    if not reply.accepted:
        if reply.status_code == 401:
            return failed(
                reply.describe(), expected,
                f"runbook §2.1: {var} is \"TradingView auth\"; the bot verifies {p.signal_signature_header} with "
                f"{p.signal_secret_var} and refused the signal signed with {var} ({reply.describe()})", *ev,
            )
        return failed(reply.describe(), expected, f"bot refused the signal signed with {var} ({reply.describe()})",
                      *ev)
    if forged.status_code not in (401, 403):
        return failed(
            f"wrong signature answered {forged.describe()}",
            expected,
            f"bot accepts a signal signed with a wrong secret ({forged.describe()}): signatures are not checked",
            *ev,
        )
    decision = reply.trade_decision or reply.policy_decision or "accepted"
    return passed(
        f"accepted ({decision}), wrong signature {forged.describe()}",
        expected,
        f"signal {reply.signal_id} signed with {var} accepted ({decision}); wrong signature refused",
        *ev,
    )


# ---------------------------------------------------------------- 2.1.5, 2.1.6 database
def _connects(t: Target, user: str, password: Secret, label: str) -> CheckResult:
    params = dataclasses.replace(t.db, user=user, password=password, read_only=True)
    expected = f"SELECT 1 as {user}"
    try:
        with connect(params, t.redactor) as db:
            row = db.one("SELECT current_user AS role, 1 AS one")
            ev = db.log.evidence()
    except DbError as exc:
        return failed("connection refused", expected, f"{label} refused ({exc})")
    return passed(f"connected as {row['role'] if row else user}", expected, f"{label} connects", ev)


def postgres_password(t: Target) -> CheckResult:
    """2.1.5: POSTGRES_PASSWORD opens a (read-only) session as the superuser (POSTGRES_USER, default postgres)."""
    value = t.secret("POSTGRES_PASSWORD")
    if not value:
        return failed("not set", "SELECT 1", "POSTGRES_PASSWORD is not set")
    return _connects(t, t.value("POSTGRES_USER", "postgres"), value, "POSTGRES_PASSWORD")


def db_password(t: Target) -> CheckResult:
    """2.1.6: DB_PASSWORD opens a (read-only) session as the application role (DB_USER)."""
    value = t.secret("DB_PASSWORD")
    label = "DB_PASSWORD"
    if not value and t.value("DATABASE_URL"):
        value, label = t.db.password, "the password in DATABASE_URL"
    if not value:
        return failed("not set", "SELECT 1", "DB_PASSWORD is not set")
    return _connects(t, t.db.user, value, label)


# ---------------------------------------------------------------- 2.1.7 – 2.1.9
def guardian_reset_code(t: Target) -> CheckResult:
    """2.1.7: GUARDIAN_RESET_CODE is set to a real value (it is only ever used to reset a hard stop)."""
    return set_and_real(t, "GUARDIAN_RESET_CODE", "hard-stop reset")


def discord_webhook(t: Target, run_id: str) -> CheckResult:
    """2.1.8 (mutating): DISCORD_WEBHOOK_URL is an https URL and a test message posted to it is accepted (2xx)."""
    url = t.secret("DISCORD_WEBHOOK_URL")
    if not url:
        return failed("not set", "2xx", "DISCORD_WEBHOOK_URL is not set")
    parts = urlsplit(url.reveal())
    for segment in parts.path.split("/"):
        if len(segment) >= 16:
            t.redactor.register(segment)  # the webhook token, should it ever appear without the rest of the URL
    if parts.scheme != "https" or not parts.hostname:
        return failed("not an https URL", "2xx", "DISCORD_WEBHOOK_URL is not an https URL")
    if not t.allow_mutations:
        return failed("https URL", "2xx", read_only_reason("that DISCORD_WEBHOOK_URL accepts a message"))
    return monitoring.discord_test_message(t, run_id)


def openrouter_api_key(t: Target) -> CheckResult:
    """2.1.9: OPENROUTER_API_KEY is set to a real value."""
    return set_and_real(t, "OPENROUTER_API_KEY", "AI Council")
