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

from ops_checks.access.config import Target
from ops_checks.access.db import DbError, connect
from ops_checks.access.valr.client import ApiKeyInfo, ValrClient, ValrError
from ops_checks.access.webhook_signal import send_signal
from ops_checks.checks import causes
from ops_checks.checks.s1_preconditions import monitoring
from ops_checks.core.http import Recorder
from ops_checks.core.result import Cause, CheckResult, Evidence, failed, not_verified, passed, plain
from ops_checks.core.secret import Secret

SOVEREIGN_MIN_LENGTH = 32  # app/auth/security.py (the profile's signal_secret_min_length)
CODE_UNAUTHORIZED = causes.CODE_UNAUTHORIZED  # VALR: key unknown, revoked or missing
CODE_INVALID_SIGNATURE = causes.CODE_INVALID_SIGNATURE  # VALR: the signature does not match the key's secret
_PLACEHOLDER = re.compile(
    r"^(changeme|change[-_]me|todo|tbd|xxx+|\*+|secret|password|none|null|placeholder|example|dummy|test|"
    r"your[-_].*|<.*>|\$\{.*\})$",
    re.I,
)


# ---------------------------------------------------------------- helpers
def read_only(what: str) -> CheckResult:
    """An item whose proof is a POST, on a read-only target (which is sent GET only): not verified."""
    return not_verified(f"proving {what} needs a POST: the run is read-only", cause=causes.READ_ONLY)


def not_set(name: str, expected: str, example: str) -> CheckResult:
    """``name`` is missing from the env file: failed, with the setting's cause (shared by every item needing it)."""
    cause = causes.unset(name, example)
    return failed("not set", expected, cause.detail, cause=cause)


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
        example = f"<the real {purpose} value>"
        cause = causes.unset(name, example) if not value else causes.malformed(name, problem, example)
        return failed("not usable", "SET", problem, cause=cause)
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


def valr_key_not_recognised(t: Target) -> CheckResult | None:
    """Precondition of 2.1.2 and 2.1.1.1: VALR recognises the key (otherwise neither the secret nor the key's
    restrictions can be judged); item 2.1.1 owns the problem."""
    if not t.secret("VALR_API_KEY"):
        cause = causes.valr_credential_unset("VALR_API_KEY")
        return not_verified(cause.detail, cause=cause, blocked_by=("2.1.1",))
    if not t.secret("VALR_API_SECRET"):
        return None  # 2.1.2 fails on its own
    _, exc, _ = _valr(t)
    if exc is not None and _key_unknown(exc):
        cause, reason = causes.valr_failure(t, exc)
        return not_verified(reason, cause=cause, blocked_by=("2.1.1",))
    return None


def valr_signature_not_accepted(t: Target) -> CheckResult | None:
    """Precondition of 2.1.1 and 2.1.1.1: requests signed with VALR_API_SECRET are accepted (item 2.1.2 owns the
    problem)."""
    if not t.secret("VALR_API_SECRET"):
        cause = causes.valr_credential_unset("VALR_API_SECRET")
        return not_verified(cause.detail, cause=cause, blocked_by=("2.1.2",))
    if not t.secret("VALR_API_KEY"):
        return None  # 2.1.1 fails on its own
    _, exc, _ = _valr(t)
    if exc is not None and exc.code == CODE_INVALID_SIGNATURE:
        cause, reason = causes.valr_failure(t, exc)
        return not_verified(reason, cause=cause, blocked_by=("2.1.2",))
    return None


# ---------------------------------------------------------------- 2.1.1, 2.1.1.1, 2.1.2
def valr_api_key(t: Target) -> CheckResult:
    """2.1.1: VALR authenticates the key and its permissions exclude Withdraw (a trading key must not withdraw)."""
    expected = "authenticated, no Withdraw permission"
    if not t.secret("VALR_API_KEY"):
        cause = causes.valr_credential_unset("VALR_API_KEY")
        return failed("not set", expected, cause.detail, cause=cause)
    info, exc, ev = _valr(t)
    if exc is not None:
        cause, reason = causes.valr_failure(t, exc)
        return failed("not authenticated", expected, reason, ev, cause=cause)
    assert info is not None
    withdraw = [p for p in info.permissions if "withdraw" in p.lower()]
    if withdraw:
        cause = Cause(
            "valr_key_permissions",
            "VALR_API_KEY",
            f"VALR_API_KEY carries the {', '.join(withdraw)} permission: a trading key must not withdraw",
            "on VALR, remove Withdraw from the key's permissions (or create a key with View access and Trade only "
            "and set VALR_API_KEY and VALR_API_SECRET to it)",
        )
        return failed(info.permissions, expected, cause.detail, ev, cause=cause)
    return passed(
        info.permissions, expected, f"key authenticated ({info.label}), permissions {plain(info.permissions)}", ev
    )


def valr_key_ip_restricted(t: Target) -> CheckResult:
    """2.1.1.1 (warning): the key is bound to an IP allow-list (``allowedIpAddressCidr``)."""
    expected = "an IP allow-list"
    info, exc, ev = _valr(t)
    if exc is not None:
        cause, reason = causes.valr_failure(t, exc)
        return failed("unknown", expected, f"the key's restrictions cannot be read: {reason}", ev, cause=cause)
    assert info is not None
    if not info.allowed_ip_cidr:
        cause = Cause(
            "valr_key_permissions",
            "VALR_API_KEY IP allow-list",
            "VALR_API_KEY is not IP-restricted: it works from any address",
            "on VALR, bind the key to the bot's public address (the key's IP allow-list)",
        )
        return failed("unrestricted", expected, cause.detail, ev, cause=cause)
    return passed(info.allowed_ip_cidr, expected, f"key restricted to {info.allowed_ip_cidr}", ev)


def valr_api_secret(t: Target) -> CheckResult:
    """2.1.2: a read signed with VALR_API_SECRET (HMAC-SHA512) is accepted by VALR."""
    expected = "signed read accepted"
    if not t.secret("VALR_API_SECRET"):
        cause = causes.valr_credential_unset("VALR_API_SECRET")
        return failed("not set", expected, cause.detail, cause=cause)
    info, exc, ev = _valr(t)
    if exc is not None:
        cause, reason = causes.valr_failure(t, exc)
        observed = "signature rejected" if exc.code == CODE_INVALID_SIGNATURE else "rejected"
        return failed(observed, expected, reason, ev, cause=cause)
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
        return not_set(var, expected, f"<at least {p.signal_secret_min_length} random characters>")
    if len(value) < p.signal_secret_min_length:
        return failed(
            f"{len(value)} characters",
            expected,
            f"{var} has {len(value)} characters, needs {p.signal_secret_min_length}",
        )
    if not t.allow_mutations:
        return read_only(f"that the bot verifies with {var}")
    probe = json.dumps({"opscheck_probe": "signature only: invalid body, never stored"}).encode()
    reply = send_signal(t, secret=value, body=probe)
    ev = reply.evidence
    if reply.error is not None:
        return failed("no answer", expected, f"{p.signal_path}: {reply.error}", *ev, cause=reply.cause)
    if reply.status_code == 401:
        return failed(
            reply.describe(),
            expected,
            f"the bot refused the signature made with {var} ({reply.describe()}): it is not the bot's {var}",
            *ev,
        )
    if reply.status_code in (400, 422):
        return passed(
            f"{len(value)} characters; signature accepted ({reply.describe()} on the invalid probe body)",
            expected,
            f"the bot verifies signatures with this {var}",
            *ev,
        )
    return failed(
        reply.describe(),
        expected,
        f"the bot answered {reply.describe()} to a signed invalid body (expected 422 after the signature check)",
        *ev,
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
        return not_set(var, expected, "<the secret shared with TradingView and the bot>")
    if not t.allow_mutations:
        return read_only(f"that a signal signed with {var} is accepted")
    wrong = Secret(secrets.token_urlsafe(32))
    t.redactor.register(wrong)
    forged = send_signal(t, secret=wrong)
    reply = send_signal(t, secret=value)
    ev = [*forged.evidence, *reply.evidence]
    if reply.error is not None:
        return failed("no answer", expected, f"signal webhook: {reply.error}", *ev, cause=reply.cause)
    if not reply.accepted:
        if reply.status_code == 401:
            return failed(
                reply.describe(),
                expected,
                f'runbook §2.1: {var} is "TradingView auth"; the bot verifies {p.signal_signature_header} with '
                f"{p.signal_secret_var} and refused the signal signed with {var} ({reply.describe()})",
                *ev,
                cause=Cause(
                    "runbook_vs_bot",
                    f"{var} (the signal's signing secret)",
                    f"runbook §2.1 says {var} authenticates TradingView signals; the bot verifies "
                    f"{p.signal_signature_header} with {p.signal_secret_var} and refuses signals signed with {var}",
                    f"sign TradingView alerts with {p.signal_secret_var} (and correct runbook §2.1), or make the bot "
                    f"verify with {var}; if the bot's secret is another variable, set BOT_SIGNAL_SECRET_VAR",
                ),
            )
        return failed(reply.describe(), expected, f"bot refused the signal signed with {var} ({reply.describe()})", *ev)
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
def _connects(t: Target, user: str, password: Secret, label: str, var: str) -> CheckResult:
    params = dataclasses.replace(t.db, user=user, password=password, read_only=True)
    expected = f"SELECT 1 as {user}"
    try:
        with connect(params, t.redactor) as db:
            row = db.one("SELECT current_user AS role, 1 AS one")
            ev = db.log.evidence()
    except DbError as exc:
        problem = str(exc)
        if "password authentication failed" in problem:
            cause = Cause(
                causes.SETTING,
                var,
                f"Postgres refuses {label} for role {user}",
                f"set {var}=<role {user}'s password> in the env file",
            )
            return failed("password refused", expected, cause.detail, cause=cause)
        cause = causes.database_connect(t, problem)
        return failed("no session", expected, f"no session as {user}: {problem}", cause=cause, blocked_by=("1.1.1",))
    return passed(f"connected as {row['role'] if row else user}", expected, f"{label} connects", ev)


def postgres_password(t: Target) -> CheckResult:
    """2.1.5: POSTGRES_PASSWORD opens a (read-only) session as the superuser (POSTGRES_USER, default postgres)."""
    value = t.secret("POSTGRES_PASSWORD")
    if not value:
        return not_set("POSTGRES_PASSWORD", "SELECT 1", "<the superuser's password>")
    return _connects(t, t.value("POSTGRES_USER", "postgres"), value, "POSTGRES_PASSWORD", "POSTGRES_PASSWORD")


def db_password(t: Target) -> CheckResult:
    """2.1.6: DB_PASSWORD opens a (read-only) session as the application role (DB_USER)."""
    value = t.secret("DB_PASSWORD")
    label = "DB_PASSWORD"
    if not value and t.value("DATABASE_URL"):
        value, label = t.db.password, "the password in DATABASE_URL"
    if not value:
        return not_set("DB_PASSWORD", "SELECT 1", "<the application role's password>")
    return _connects(t, t.db.user, value, label, "DB_PASSWORD")


# ---------------------------------------------------------------- 2.1.7 – 2.1.9
def guardian_reset_code(t: Target) -> CheckResult:
    """2.1.7: GUARDIAN_RESET_CODE is set to a real value (it is only ever used to reset a hard stop)."""
    return set_and_real(t, "GUARDIAN_RESET_CODE", "hard-stop reset")


def discord_webhook(t: Target, run_id: str) -> CheckResult:
    """2.1.8 (mutating): DISCORD_WEBHOOK_URL is an https URL and a test message posted to it is accepted (2xx)."""
    url = t.secret("DISCORD_WEBHOOK_URL")
    if not url:
        return not_set("DISCORD_WEBHOOK_URL", "2xx", "https://discord.com/api/webhooks/<id>/<token>")
    parts = urlsplit(url.reveal())
    for segment in parts.path.split("/"):
        if len(segment) >= 16:
            t.redactor.register(segment)  # the webhook token, should it ever appear without the rest of the URL
    if parts.scheme != "https" or not parts.hostname:
        return failed("not an https URL", "2xx", "DISCORD_WEBHOOK_URL is not an https URL")
    if not t.allow_mutations:
        return read_only("that DISCORD_WEBHOOK_URL accepts a message")
    return monitoring.discord_test_message(t, run_id)


def openrouter_api_key(t: Target) -> CheckResult:
    """2.1.9: OPENROUTER_API_KEY is set to a real value."""
    return set_and_real(t, "OPENROUTER_API_KEY", "AI Council")
